"""SKI batch queries (POST /queries/batch at the city's intermediate server): 東村山市's
child-allowance staff check the income of many recipients at 小平市 in one request. The role is
checked once, before anything leaves the city; every person gets an access-log entry (rule 5),
their own provision record at the broker, and their own sealed answer, opened only here.
"""

from __future__ import annotations

from typing import Any

from tests.unit.linkage_fixture import (
    BROKER_TIMEOUT,
    HIGASHIMURAYAMA,
    KODAIRA,
    PROVIDER_DELAY,
    Linkage,
    slow_down,
    staff_batch_query,
    synthetic_resident,
    timed,
)

NOWHERE = "999999999999999"  # a well-formed address number the city never issued


async def child_allowance_token(linkage: Linkage) -> str:
    return await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")


async def newcomer_address(linkage: Linkage) -> str:
    """A resident registered only in 東村山市: 小平市 holds nothing on them."""
    response = await linkage.register_residents(HIGASHIMURAYAMA, [synthetic_resident(60, HIGASHIMURAYAMA)])
    assert response.status_code == 200, response.text
    address_number: str = response.json()["residents"][0]["address_number"]
    return address_number


async def log_outcomes(linkage: Linkage) -> dict[str, str]:
    """address number → outcome of its (only) access-log entry; the chain must be intact."""
    log = await linkage.access_log(HIGASHIMURAYAMA)
    assert log["intact"]
    outcomes = {entry["address_number"]: entry["outcome"] for entry in log["entries"]}
    assert len(outcomes) == len(log["entries"])
    return outcomes


def problem_code(result: dict[str, Any]) -> str | None:
    return (result["problem"] or {}).get("code")


async def test_staff_batch_returns_each_persons_items_and_logs_each_person(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    token = await child_allowance_token(linkage)
    addresses = [
        movers[0].address_numbers["higashimurayama"],
        await newcomer_address(linkage),
        NOWHERE,
        movers[1].address_numbers["higashimurayama"],
    ]

    response = await staff_batch_query(linkage, HIGASHIMURAYAMA, token, addresses)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["provider_code"], answer["whitelist_row"]) == (KODAIRA.code, "R001")
    results = answer["results"]
    assert [r["address_number"] for r in results] == addresses
    assert [(r["outcome"], problem_code(r)) for r in results] == [
        ("provided", None),
        ("refused", "no_symbol_at_provider"),
        ("refused", "unknown_address_number"),
        ("provided", None),
    ]
    for result, mover in ((results[0], movers[0]), (results[3], movers[1])):
        values = {item["item_code"]: (item["period"], item["value"]) for item in result["items"]}
        assert values == {
            "tax.taxable_income": (str(mover.tax_year), mover.taxable_income),
            "tax.income_levy": (str(mover.tax_year), mover.income_levy),
        }
        assert result["missing_items"] == []
    assert results[2]["query_id"] is None  # never left the city
    assert await log_outcomes(linkage) == {
        addresses[0]: "read",
        addresses[1]: "refused:no_symbol_at_provider",
        addresses[2]: "refused:unknown_address_number",
        addresses[3]: "read",
    }
    records = {r["query_id"]: r for r in await linkage.provision_records()}
    assert set(records) == {r["query_id"] for r in results if r["query_id"] is not None}
    assert [records[r["query_id"]]["outcome"] for r in results if r["query_id"]] == ["provided", "refused", "provided"]


async def test_staff_batch_outside_the_role_is_refused_in_the_city_and_logged_per_person(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    token = await linkage.staff_token(HIGASHIMURAYAMA, "hoken-001", "保険年金課")
    addresses = [m.address_numbers["higashimurayama"] for m in movers]

    response = await staff_batch_query(linkage, HIGASHIMURAYAMA, token, addresses)

    assert response.status_code == 403
    assert response.json()["code"] == "item_not_permitted_for_role"
    assert await log_outcomes(linkage) == dict.fromkeys(addresses, "refused:item_not_permitted_for_role")
    assert await linkage.provision_records() == []  # nothing left the city


async def test_staff_batch_off_the_whitelist_is_403_logged_and_recorded_per_person(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    token = await child_allowance_token(linkage)
    addresses = [m.address_numbers["higashimurayama"] for m in movers]

    response = await staff_batch_query(
        linkage, HIGASHIMURAYAMA, token, addresses, procedure="child_medical_subsidy.certification"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_on_whitelist"
    assert await log_outcomes(linkage) == dict.fromkeys(addresses, "refused:not_on_whitelist")
    records = await linkage.provision_records()
    assert [(r["outcome"], r["outcome_code"]) for r in records] == [("refused", "not_on_whitelist")] * 2


async def test_staff_batch_naming_a_person_twice_is_422_before_anything_happens(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await child_allowance_token(linkage)
    here = mover.address_numbers["higashimurayama"]

    response = await staff_batch_query(linkage, HIGASHIMURAYAMA, token, [here, here])

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert (await linkage.access_log(HIGASHIMURAYAMA))["entries"] == []


async def test_staff_batch_with_the_provider_down_is_503_and_logged_per_person(linkage: Linkage) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    token = await child_allowance_token(linkage)
    addresses = [m.address_numbers["higashimurayama"] for m in movers]
    linkage.take_down(KODAIRA.intermediate_host)

    response = await staff_batch_query(linkage, HIGASHIMURAYAMA, token, addresses)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "upstream_unavailable"
    assert await log_outcomes(linkage) == dict.fromkeys(addresses, "refused:upstream_unavailable")
    records = await linkage.provision_records()
    assert [(r["outcome"], r["outcome_code"]) for r in records] == [("failed", "upstream_unavailable")] * 2


async def test_staff_batch_with_a_slow_provider_is_504_within_the_brokers_timeout(
    linkage: Linkage,
) -> None:
    movers = [await linkage.move_resident(seed) for seed in (1, 2)]
    token = await child_allowance_token(linkage)
    addresses = [m.address_numbers["higashimurayama"] for m in movers]
    slow_down(linkage, KODAIRA.intermediate_host, "/provisions/batch", PROVIDER_DELAY)

    response, elapsed = await timed(staff_batch_query(linkage, HIGASHIMURAYAMA, token, addresses))

    assert elapsed < BROKER_TIMEOUT + 2.0
    assert response.status_code == 504, response.text
    assert response.json()["code"] == "upstream_timeout"
    assert await log_outcomes(linkage) == dict.fromkeys(addresses, "refused:upstream_timeout")
