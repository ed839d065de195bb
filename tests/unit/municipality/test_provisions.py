"""TKY 情報提供: the provider seals each answer to the key the requester signed its query with,
and to no other institution's key, and answers only items its own catalogue provides for the
forwarded procedure, whatever the broker forwards."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from services.sealing import open_sealed_json
from tests.unit.linkage_fixture import (
    BROKER,
    CHILD_ALLOWANCE,
    HIGASHIMURAYAMA,
    INCOME_ITEMS,
    KODAIRA,
    OPERATOR,
    Linkage,
)

# What the broker forwards with each query: the whitelist row it let it through under.
WHITELIST = {"whitelist_row": "R001", "whitelist_version": "2026-10-01"}
# 就学援助 may ask 小平市 for the income levy, never for the total income (items.yaml).
SCHOOL_AID = "school.attendance_aid"


async def _forwarded(
    linkage: Linkage,
    requester_key_id: str,
    *,
    procedure: str = CHILD_ALLOWANCE,
    items: Sequence[str] = INCOME_ITEMS,
    query_id: str | None = None,
) -> tuple[int, Any]:
    mover = await linkage.move_resident()
    provider_symbol = await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])
    forwarded = {
        "query_id": query_id or uuid.uuid4().hex,
        "requester_code": HIGASHIMURAYAMA.code,
        "requester_key_id": requester_key_id,
        "provider_symbol": provider_symbol,
        "procedure_code": procedure,
        "item_codes": list(items),
        **WHITELIST,
    }
    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=BROKER) as broker:
        response = await broker.post("/provisions", json=forwarded)
    return response.status_code, response.json()


async def _provided_records(linkage: Linkage) -> list[dict[str, Any]]:
    """小平市's own records of what it answered or refused as provider (TKM)."""
    async with linkage.network.client_for(KODAIRA.intermediate_host) as client:
        response = await client.get("/provision-records", params={"direction": "provided"}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()
    return records


async def test_answer_is_sealed_to_the_requesters_signing_component_key(linkage: Linkage) -> None:
    status, answer = await _forwarded(linkage, f"{HIGASHIMURAYAMA.code}.intermediate")
    requester_keys = linkage.network.runtime(HIGASHIMURAYAMA.intermediate_host).keys
    opened = open_sealed_json(answer["ciphertext"], requester_keys.encryption_key)
    assert status == 200
    assert {item["item_code"] for item in opened["items"]} == set(INCOME_ITEMS)


async def test_provider_refuses_to_seal_to_another_institutions_key(linkage: Linkage) -> None:
    status, problem = await _forwarded(linkage, f"{KODAIRA.code}.intermediate")
    assert (status, problem["code"]) == (404, "unknown_requester")


async def _forwarded_batch(
    linkage: Linkage,
    persons: list[dict[str, str]],
    *,
    signed_as: str = BROKER,
    procedure: str = CHILD_ALLOWANCE,
    items: Sequence[str] = INCOME_ITEMS,
) -> Any:
    forwarded = {
        "requester_code": HIGASHIMURAYAMA.code,
        "requester_key_id": f"{HIGASHIMURAYAMA.code}.intermediate",
        "procedure_code": procedure,
        "item_codes": list(items),
        "persons": persons,
        **WHITELIST,
    }
    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=signed_as) as caller:
        return await caller.post("/provisions/batch", json=forwarded)


async def test_batch_seals_each_persons_answer_on_its_own_and_answers_unknown_symbols_per_person(
    linkage: Linkage,
) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    symbols = [await linkage.symbol_held_by(KODAIRA, m.address_numbers["kodaira"]) for m in movers]
    persons = [{"query_id": uuid.uuid4().hex, "provider_symbol": symbol} for symbol in symbols]
    persons.insert(1, {"query_id": uuid.uuid4().hex, "provider_symbol": "A" * 32})  # no such person here

    response = await _forwarded_batch(linkage, persons)

    assert response.status_code == 200, response.text
    answers = response.json()["answers"]
    assert [a["query_id"] for a in answers] == [p["query_id"] for p in persons]
    assert answers[1]["ciphertext"] is None
    assert (answers[1]["problem"]["status"], answers[1]["problem"]["code"]) == (404, "unknown_symbol")
    requester_keys = linkage.network.runtime(HIGASHIMURAYAMA.intermediate_host).keys
    for answer, mover in ((answers[0], movers[0]), (answers[2], movers[1])):
        opened = open_sealed_json(answer["ciphertext"], requester_keys.encryption_key)
        assert opened["query_id"] == answer["query_id"]
        assert {item["item_code"]: item["value"] for item in opened["items"]} == {
            "tax.taxable_income": mover.taxable_income,
            "tax.income_levy": mover.income_levy,
        }


async def test_only_the_broker_may_forward_a_batch(linkage: Linkage) -> None:
    persons = [{"query_id": uuid.uuid4().hex, "provider_symbol": "A" * 32}]

    response = await _forwarded_batch(linkage, persons, signed_as=HIGASHIMURAYAMA.intermediate_host)

    assert (response.status_code, response.json()["code"]) == (403, "caller_not_permitted")


async def test_provider_refuses_an_item_its_catalogue_does_not_provide_for_the_procedure(linkage: Linkage) -> None:
    query_id = uuid.uuid4().hex

    status, problem = await _forwarded(
        linkage, HIGASHIMURAYAMA.intermediate_key_id, procedure=SCHOOL_AID, items=INCOME_ITEMS, query_id=query_id
    )

    assert (status, problem["code"]) == (403, "item_not_provided_for_procedure")
    assert problem["item_codes"] == ["tax.taxable_income"]
    assert "ciphertext" not in problem
    [record] = await _provided_records(linkage)
    assert (record["query_id"], record["outcome"], record["outcome_code"]) == (
        query_id,
        "refused",
        "item_not_provided_for_procedure",
    )
    assert (record["procedure_code"], record["provided_items"]) == (SCHOOL_AID, [])


async def test_provider_refuses_an_item_outside_its_catalogue(linkage: Linkage) -> None:
    status, problem = await _forwarded(
        linkage,
        HIGASHIMURAYAMA.intermediate_key_id,
        procedure="disaster.reconstruction_grant",
        items=["disaster.damage_certificate", "tax.taxable_income"],
    )

    assert (status, problem["code"]) == (403, "item_not_provided_for_procedure")
    assert problem["item_codes"] == ["disaster.damage_certificate"]


async def test_provider_answers_the_items_its_catalogue_provides_for_the_procedure(linkage: Linkage) -> None:
    status, answer = await _forwarded(
        linkage, HIGASHIMURAYAMA.intermediate_key_id, procedure=SCHOOL_AID, items=["tax.income_levy"]
    )

    opened = open_sealed_json(answer["ciphertext"], linkage.network.runtime(HIGASHIMURAYAMA.intermediate_host).keys)
    assert status == 200
    assert [item["item_code"] for item in opened["items"]] == ["tax.income_levy"]


async def test_batch_outside_the_catalogue_is_refused_whole_and_recorded_for_each_person(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    symbols = [await linkage.symbol_held_by(KODAIRA, m.address_numbers["kodaira"]) for m in movers]
    persons = [{"query_id": uuid.uuid4().hex, "provider_symbol": symbol} for symbol in symbols]

    response = await _forwarded_batch(linkage, persons, procedure=SCHOOL_AID)

    assert (response.status_code, response.json()["code"]) == (403, "item_not_provided_for_procedure")
    records = {r["query_id"]: r for r in await _provided_records(linkage)}
    assert set(records) == {p["query_id"] for p in persons}
    for person, mover in zip(persons, movers, strict=True):
        record = records[person["query_id"]]
        assert (record["outcome"], record["outcome_code"]) == ("refused", "item_not_provided_for_procedure")
        assert record["address_number"] == mover.address_numbers["kodaira"]


async def test_refusal_for_an_unknown_person_is_recorded_without_an_address_number(linkage: Linkage) -> None:
    persons = [{"query_id": uuid.uuid4().hex, "provider_symbol": "A" * 32}]

    response = await _forwarded_batch(linkage, persons)

    assert response.json()["answers"][0]["problem"]["code"] == "unknown_symbol"
    [record] = await _provided_records(linkage)
    assert (record["query_id"], record["outcome"], record["outcome_code"]) == (
        persons[0]["query_id"],
        "refused",
        "unknown_symbol",
    )
    assert record["address_number"] is None
