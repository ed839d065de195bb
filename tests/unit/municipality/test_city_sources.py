"""The city's own source systems (child allowance, national health insurance, welfare, and the
resident registry's households): each records its decisions and pushes them as copies (副本),
which the department that owns the system then sees through the intermediate server; another
city asks for them through the broker. An unknown resident loses nothing and pushes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx

from tests.unit.linkage_fixture import (
    HIGASHIMURAYAMA,
    KODAIRA,
    OPERATOR,
    City,
    Linkage,
    bearer,
    synthetic_resident,
)


async def record(linkage: Linkage, city: City, path: str, body: dict[str, Any]) -> httpx.Response:
    async with linkage.network.client_for(city.city_host) as client:
        return await client.post(path, json=body, headers=OPERATOR)


DEPARTMENT_STAFF = {"市民課": "shimin-001", "子育て支援課": "kosodate-001", "生活福祉課": "fukushi-001"}
DEPARTMENT_STAFF["保険年金課"] = "hoken-001"


async def viewed(linkage: Linkage, city: City, department: str, address: str, items: Sequence[str]) -> dict[str, Any]:
    """What the department's staff see of these copies: (period, value) per item held."""
    staff_id = DEPARTMENT_STAFF[department]
    signed_in = await linkage.log_in(city, staff_id)
    if signed_in.status_code == 401:  # the department's first view in this test
        token = await linkage.staff_token(city, staff_id, department)
    else:
        token = signed_in.json()["token"]
    async with linkage.network.client_for(city.intermediate_host) as client:
        response = await client.get(
            "/views/copies", params={"address_number": address, "item_codes": list(items)}, headers=bearer(token)
        )
    assert response.status_code == 200, response.text
    return {item["item_code"]: (item["period"], item["value"]) for item in response.json()["items"]}


async def household(linkage: Linkage, city: City) -> dict[str, str]:
    """A head of household, a spouse and a child registered together: relationship → address number."""
    members = []
    for seed, relationship in ((41, "世帯主"), (42, "配偶者"), (43, "子")):
        members.append({**synthetic_resident(seed, city), "household_code": "0000004242", "relationship": relationship})
    response = await linkage.register_residents(city, members)
    assert response.status_code == 200, response.text
    codes = {m["resident_code"]: m["relationship"] for m in members}
    registered = response.json()["residents"]
    addresses = {codes[r["resident_code"]]: r["address_number"] for r in registered}
    return {**addresses, **{f"code:{codes[m['resident_code']]}": m["resident_code"] for m in members}}


async def test_registering_a_household_pushes_its_composition_for_every_member(linkage: Linkage) -> None:
    members = await household(linkage, KODAIRA)

    for relationship in ("世帯主", "配偶者", "子"):
        copies = await viewed(linkage, KODAIRA, "市民課", members[relationship], ["resident.household"])
        assert copies == {"resident.household": (date.today().isoformat(), "世帯主・配偶者・子")}


async def test_child_allowance_decision_is_a_copy_of_this_months_payment(linkage: Linkage) -> None:
    members = await household(linkage, KODAIRA)
    decision = {"recipient_code": members["code:世帯主"], "children": 1, "monthly_amount": 15_000}

    response = await record(linkage, KODAIRA, "/child-allowance/recipients", {"recipients": [decision]})

    assert response.status_code == 200, response.text
    assert response.json() == {"recorded": 1, "copies_registered": 1}
    copies = await viewed(linkage, KODAIRA, "子育て支援課", members["世帯主"], ["child_allowance.payment"])
    assert copies == {"child_allowance.payment": (date.today().strftime("%Y-%m"), 15_000)}


async def test_welfare_status_is_pushed_for_every_member_of_the_household(linkage: Linkage) -> None:
    members = await household(linkage, KODAIRA)
    case = {"head_code": members["code:世帯主"], "status": "receiving", "monthly_amount": 210_000}

    response = await record(linkage, KODAIRA, "/welfare/cases", {"cases": [{**case, "started_on": "2026-04-01"}]})

    assert response.status_code == 200, response.text
    assert response.json()["copies_registered"] == 3
    for relationship in ("世帯主", "配偶者", "子"):
        copies = await viewed(linkage, KODAIRA, "生活福祉課", members[relationship], ["welfare.protection_status"])
        assert copies == {"welfare.protection_status": (date.today().strftime("%Y-%m"), "receiving")}


async def test_health_insurance_enrolment_is_a_copy_dated_the_day_it_changed(linkage: Linkage) -> None:
    members = await household(linkage, KODAIRA)
    enrolment = {"resident_code": members["code:子"], "status": "enrolled", "changed_on": "2026-10-01"}

    response = await record(linkage, KODAIRA, "/health-insurance/enrollments", {"enrollments": [enrolment]})

    assert response.status_code == 200, response.text
    copies = await viewed(linkage, KODAIRA, "保険年金課", members["子"], ["nhi.enrollment"])
    assert copies == {"nhi.enrollment": ("2026-10-01", "enrolled")}


async def test_another_city_asks_for_the_household_through_the_broker(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    composition = [{**synthetic_resident(7, KODAIRA), "household_code": "0000000007", "relationship": "世帯主"}]
    assert (await linkage.register_residents(KODAIRA, composition)).status_code == 200
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")

    response = await linkage.staff_query(
        HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"], items=["resident.household"]
    )

    # The mover was registered without a household: the answer says so, it does not invent one.
    assert response.status_code == 200, response.text
    assert response.json()["missing_items"] == ["resident.household"]


async def test_a_decision_for_an_unregistered_resident_is_refused_and_nothing_is_kept(linkage: Linkage) -> None:
    members = await household(linkage, KODAIRA)
    known = {"recipient_code": members["code:世帯主"], "children": 2, "monthly_amount": 20_000}
    unknown = {"recipient_code": "99999999999", "children": 1, "monthly_amount": 10_000}

    response = await record(linkage, KODAIRA, "/child-allowance/recipients", {"recipients": [known, unknown]})

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_resident"
    assert response.json()["indexes"] == [1]
    assert await viewed(linkage, KODAIRA, "子育て支援課", members["世帯主"], ["child_allowance.payment"]) == {}
