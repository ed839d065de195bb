"""TKY 情報提供: the provider seals each answer to the key the requester signed its query with,
and to no other institution's key."""

from __future__ import annotations

import uuid
from typing import Any

from services.sealing import open_sealed_json
from tests.unit.linkage_fixture import BROKER, CHILD_ALLOWANCE, HIGASHIMURAYAMA, INCOME_ITEMS, KODAIRA, Linkage


async def _forwarded(linkage: Linkage, requester_key_id: str) -> tuple[int, Any]:
    mover = await linkage.move_resident()
    provider_symbol = await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])
    forwarded = {
        "query_id": uuid.uuid4().hex,
        "requester_code": HIGASHIMURAYAMA.code,
        "requester_key_id": requester_key_id,
        "provider_symbol": provider_symbol,
        "procedure_code": CHILD_ALLOWANCE,
        "item_codes": INCOME_ITEMS,
    }
    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=BROKER) as broker:
        response = await broker.post("/provisions", json=forwarded)
    return response.status_code, response.json()


async def test_answer_is_sealed_to_the_requesters_signing_component_key(linkage: Linkage) -> None:
    status, answer = await _forwarded(linkage, f"{HIGASHIMURAYAMA.code}.intermediate")
    requester_keys = linkage.network.runtime(HIGASHIMURAYAMA.intermediate_host).keys
    opened = open_sealed_json(answer["ciphertext"], requester_keys.encryption_key)
    assert status == 200
    assert {item["item_code"] for item in opened["items"]} == set(INCOME_ITEMS)


async def test_provider_refuses_to_seal_to_another_institutions_key(linkage: Linkage) -> None:
    status, problem = await _forwarded(linkage, f"{KODAIRA.code}.intermediate")
    assert (status, problem["code"]) == (404, "unknown_requester")


async def _forwarded_batch(linkage: Linkage, persons: list[dict[str, str]], *, signed_as: str = BROKER) -> Any:
    forwarded = {
        "requester_code": HIGASHIMURAYAMA.code,
        "requester_key_id": f"{HIGASHIMURAYAMA.code}.intermediate",
        "procedure_code": CHILD_ALLOWANCE,
        "item_codes": INCOME_ITEMS,
        "persons": persons,
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
