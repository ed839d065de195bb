"""TKM 情報提供等記録管理: each city keeps its own record of what it provided and asked, beside the
broker's. Every answer is in all three records under the same query id; refusals are recorded
too; no record keeps an item's value."""

from __future__ import annotations

from typing import Any

import yaml

from broker.config import WHITELIST_FILE
from tests.unit.linkage_fixture import (
    BROKER,
    CHILD_ALLOWANCE,
    HIGASHIMURAYAMA,
    INCOME_ITEMS,
    KODAIRA,
    OPERATOR,
    City,
    Linkage,
    staff_batch_query,
    stored_text,
)

CHILD_CARE = "子育て支援課"
# 子育て支援課's role grants it, but no whitelist row does, and 小平市's catalogue provides no item for it.
CITY_SUBSIDY = "child_medical_subsidy.certification"


async def city_records(linkage: Linkage, city: City, direction: str | None = None) -> list[dict[str, Any]]:
    params = {} if direction is None else {"direction": direction}
    async with linkage.network.client_for(city.intermediate_host) as client:
        response = await client.get("/provision-records", params=params, headers=OPERATOR)
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()
    return records


async def person_records(linkage: Linkage, city: City, address_number: str) -> list[dict[str, Any]]:
    async with linkage.network.client_for(city.intermediate_host) as client:
        response = await client.post(
            "/provision-records/search", json={"address_number": address_number}, headers=OPERATOR
        )
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return records


async def test_every_answer_is_in_the_brokers_record_and_in_both_cities_own(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-1", CHILD_CARE)

    response = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])

    assert response.status_code == 200, response.text
    query_id = response.json()["query_id"]
    [brokers] = [r for r in await linkage.provision_records() if r["query_id"] == query_id]
    [provided] = await city_records(linkage, KODAIRA, "provided")
    [requested] = await city_records(linkage, HIGASHIMURAYAMA, "requested")
    for record in (provided, requested):
        assert (record["query_id"], record["outcome"]) == (query_id, brokers["outcome"]) == (query_id, "provided")
        assert (record["requester_code"], record["provider_code"]) == (HIGASHIMURAYAMA.code, KODAIRA.code)
        assert (record["procedure_code"], record["item_codes"]) == (CHILD_ALLOWANCE, INCOME_ITEMS)
        assert record["provided_items"] == INCOME_ITEMS
        assert record["missing_items"] == []
        assert record["oldest_as_of"] is not None
    assert (provided["whitelist_row"], provided["whitelist_version"]) == (
        brokers["whitelist_row"],
        brokers["whitelist_version"],
    )
    assert provided["address_number"] == mover.address_numbers["kodaira"]
    assert (requested["address_number"], requested["staff_id"]) == (
        mover.address_numbers["higashimurayama"],
        "kosodate-1",
    )
    assert requested["whitelist_row"] == brokers["whitelist_row"]


async def test_a_batch_is_recorded_per_person_on_both_sides(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-1", CHILD_CARE)

    response = await staff_batch_query(
        linkage, HIGASHIMURAYAMA, token, [m.address_numbers["higashimurayama"] for m in movers]
    )

    assert response.status_code == 200, response.text
    query_ids = {r["query_id"] for r in response.json()["results"]}
    brokers = {r["query_id"]: r["outcome"] for r in await linkage.provision_records()}
    provided = {r["query_id"]: r["outcome"] for r in await city_records(linkage, KODAIRA, "provided")}
    requested = {r["query_id"]: r["outcome"] for r in await city_records(linkage, HIGASHIMURAYAMA, "requested")}
    assert provided == requested == {query_id: brokers[query_id] for query_id in query_ids}
    assert set(provided.values()) == {"provided"}


async def test_a_provision_the_catalogue_refuses_is_recorded_by_the_broker_and_both_cities(linkage: Linkage) -> None:
    """A faulty whitelist at the broker lets the query through; 小平市's own catalogue stops it."""
    document = yaml.safe_load(WHITELIST_FILE.read_text(encoding="utf-8"))
    document["version"] = "faulty-upload"
    document["rows"].append({**document["rows"][0], "id": "R999", "procedure": CITY_SUBSIDY, "items": INCOME_ITEMS})
    async with linkage.network.client_for(BROKER) as broker:
        upload = await broker.post(
            "/whitelist/versions",
            json={"yaml": yaml.safe_dump(document, allow_unicode=True), "loaded_by": "誤登録"},
            headers=OPERATOR,
        )
    assert upload.status_code == 201, upload.text
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-1", CHILD_CARE)

    response = await linkage.staff_query(
        HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"], procedure=CITY_SUBSIDY
    )

    assert (response.status_code, response.json()["code"]) == (403, "item_not_provided_for_procedure")
    [brokers] = await linkage.provision_records()
    [provided] = await city_records(linkage, KODAIRA, "provided")
    [requested] = await city_records(linkage, HIGASHIMURAYAMA, "requested")
    assert brokers["outcome_code"] == provided["outcome_code"] == requested["outcome_code"]
    assert provided["query_id"] == brokers["query_id"]
    assert (provided["outcome"], provided["whitelist_row"], provided["whitelist_version"]) == (
        "refused",
        "R999",
        "faulty-upload",
    )
    assert (requested["outcome"], requested["staff_id"]) == ("refused", "kosodate-1")


async def test_a_query_the_broker_refuses_is_recorded_on_the_requesters_side(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-1", CHILD_CARE)

    response = await linkage.staff_query(
        HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"], procedure=CITY_SUBSIDY
    )

    assert (response.status_code, response.json()["code"]) == (403, "not_on_whitelist")
    [requested] = await city_records(linkage, HIGASHIMURAYAMA)
    assert (requested["direction"], requested["outcome"], requested["outcome_code"]) == (
        "requested",
        "refused",
        "not_on_whitelist",
    )
    assert await city_records(linkage, KODAIRA) == []  # nothing reached the provider


async def test_a_query_refused_by_the_role_never_left_the_city_and_is_no_provision(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "shimin-1", "市民課")

    response = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])

    assert (response.status_code, response.json()["code"]) == (403, "item_not_permitted_for_role")
    assert await city_records(linkage, HIGASHIMURAYAMA) == []


async def test_search_by_address_number_finds_the_persons_records_only(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-1", CHILD_CARE)
    answers = [
        (await linkage.staff_query(HIGASHIMURAYAMA, token, m.address_numbers["higashimurayama"])).json() for m in movers
    ]

    records = await person_records(linkage, KODAIRA, movers[1].address_numbers["kodaira"])

    assert [(r["query_id"], r["direction"]) for r in records] == [(answers[1]["query_id"], "provided")]


async def test_no_record_keeps_an_items_value(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-1", CHILD_CARE)
    response = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])
    assert response.status_code == 200, response.text

    for city in (KODAIRA, HIGASHIMURAYAMA):
        stored = await stored_text(linkage.database(city.intermediate_host))
        records = "\n".join(line for line in stored.splitlines() if line.startswith("city_provision_records:"))
        assert response.json()["query_id"] in records
        for value in (mover.taxable_income, mover.income_levy):
            assert str(value) not in records


async def test_provision_records_are_for_the_operator_only(linkage: Linkage) -> None:
    async with linkage.network.client_for(KODAIRA.intermediate_host) as client:
        listing = await client.get("/provision-records")
        search = await client.post("/provision-records/search", json={"address_number": "1" * 15})

    assert listing.status_code == search.status_code == 401
