"""SCM bulk export: only on an approval, used once, within the role, every person read logged."""

from __future__ import annotations

import httpx

from tests.unit.linkage_fixture import INCOME_ITEMS, KODAIRA, Linkage, Mover, bearer
from tests.unit.municipality.test_approvals import asked, call, decide, tax_department

CITY = KODAIRA  # 小平市 holds the mover's income copies
NOBODY_HELD = "999999999999999"  # an address number the city holds no copy for


async def export(linkage: Linkage, token: str, approval_id: int, fmt: str = "json") -> httpx.Response:
    return await call(linkage, "POST", "/exports", bearer(token), {"approval_id": approval_id, "format": fmt})


async def approved_export(linkage: Linkage, mover: Mover) -> tuple[str, int]:
    """課税課 staff's token and their approved export of the mover's income (and a person with none)."""
    chief, staff = await tax_department(linkage)
    details = {"item_codes": INCOME_ITEMS, "address_numbers": [mover.address_numbers[CITY.slug], NOBODY_HELD]}
    approval_id = await asked(linkage, staff, "bulk_export", details)
    response = await decide(linkage, chief, approval_id)
    assert response.status_code == 200, response.text
    return staff, approval_id


async def test_an_approved_export_returns_the_copies_and_logs_each_person(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    staff, approval_id = await approved_export(linkage, mover)
    here = mover.address_numbers[CITY.slug]

    response = await export(linkage, staff, approval_id)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["people"], body["item_codes"]) == (2, INCOME_ITEMS)
    assert {(r["address_number"], r["item_code"], r["period"], r["value"]) for r in body["rows"]} == {
        (here, "tax.income_levy", str(mover.tax_year), mover.income_levy),
        (here, "tax.taxable_income", str(mover.tax_year), mover.taxable_income),
    }
    entries = (await linkage.access_log(CITY))["entries"]
    assert sorted((e["address_number"], e["procedure_code"], e["outcome"], e["staff_id"]) for e in entries) == [
        (here, "copies.export", "read", "kazei-001"),
        (NOBODY_HELD, "copies.export", "read", "kazei-001"),
    ]
    assert all(e["item_codes"] == INCOME_ITEMS for e in entries)


async def test_an_approval_exports_once(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    staff, approval_id = await approved_export(linkage, mover)
    await export(linkage, staff, approval_id)

    again = await export(linkage, staff, approval_id)

    assert (again.status_code, again.json()["code"]) == (409, "approval_consumed")
    assert len((await linkage.access_log(CITY))["entries"]) == 2  # the first export's two people only


async def test_the_export_comes_as_csv_on_request(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    staff, approval_id = await approved_export(linkage, mover)

    response = await export(linkage, staff, approval_id, "csv")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "address_number,item_code,period,value,as_of"
    here = mover.address_numbers[CITY.slug]
    assert f"{here},tax.taxable_income,{mover.tax_year},{mover.taxable_income}," in response.text
    assert len(lines) == 3


async def test_no_export_without_an_approval(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    _chief, staff = await tax_department(linkage)
    pending = await asked(linkage, staff, "bulk_export", {"item_codes": INCOME_ITEMS, "address_numbers": [NOBODY_HELD]})

    unapproved = await export(linkage, staff, pending)
    unknown = await export(linkage, staff, pending + 100)
    missing = await call(linkage, "POST", "/exports", bearer(staff), {})

    assert (unapproved.status_code, unapproved.json()["code"]) == (409, "approval_pending")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "approval_not_found")
    assert missing.status_code == 422
    assert str(mover.taxable_income) not in unapproved.text
    assert (await linkage.access_log(CITY))["entries"] == []


async def test_only_the_requester_uses_their_approval(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    _staff, approval_id = await approved_export(linkage, mover)
    colleague = await linkage.staff_token(CITY, "kazei-002", "課税課")

    response = await export(linkage, colleague, approval_id)

    assert (response.status_code, response.json()["code"]) == (403, "approval_not_yours")


async def test_an_export_of_items_outside_the_role_cannot_be_asked_for(linkage: Linkage) -> None:
    _chief, staff = await tax_department(linkage)

    response = await call(
        linkage,
        "POST",
        "/approvals",
        bearer(staff),
        {
            "action": "bulk_export",
            "details": {"item_codes": ["welfare.protection_status"], "address_numbers": [NOBODY_HELD]},
            "reason": "確認",
        },
    )

    assert (response.status_code, response.json()["code"]) == (403, "item_not_permitted_for_role")
