"""SCM contractors (委託): a contractor reads, through one endpoint, only the persons and items a
grant its department's 課長 approved names, within the grant's term; every attempt is logged and
the chief sees them; no staff endpoint accepts a contractor's token."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.unit.linkage_fixture import INCOME_ITEMS, KODAIRA, OPERATOR, Linkage, Mover, bearer

CITY = KODAIRA  # holds the mover's income copies, which 課税課 may view
CONTRACTOR = "gakushu-shien"
PASSWORD = "synthetic-contractor-password"
OTHER_PERSON = "999999999999999"


async def call(linkage: Linkage, method: str, path: str, headers: dict[str, str], body: Any = None) -> httpx.Response:
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        return await client.request(method, path, json=body, headers=headers)


def grant_details(mover: Mover, *, starts: int = -1, ends: int = 30) -> dict[str, Any]:
    """A grant of the income items of the mover, from `starts` to `ends` days from today."""
    today = date.today()
    return {
        "contractor_id": CONTRACTOR,
        "item_codes": INCOME_ITEMS,
        "address_numbers": [mover.address_numbers[CITY.slug], OTHER_PERSON],
        "valid_from": (today + timedelta(days=starts)).isoformat(),
        "valid_to": (today + timedelta(days=ends)).isoformat(),
        "purpose": "学習支援事業(生活保護世帯)",
    }


async def contractor_token(linkage: Linkage) -> str:
    body = {"contractor_id": CONTRACTOR, "company": "株式会社まなび", "password": PASSWORD}
    response = await call(linkage, "POST", "/contractors", OPERATOR, body)
    assert response.status_code == 201, response.text
    response = await call(
        linkage, "POST", "/contractor/sessions", {}, {"contractor_id": CONTRACTOR, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


async def approved(linkage: Linkage, chief: str, staff: str, details: dict[str, Any]) -> int:
    body = {"action": "contractor_grant", "details": details, "reason": "学習支援事業の委託"}
    response = await call(linkage, "POST", "/approvals", bearer(staff), body)
    assert response.status_code == 201, response.text
    approval_id: int = response.json()["approval_id"]
    decision = {"decision": "approve", "reason": "契約書を確認"}
    response = await call(linkage, "POST", f"/approvals/{approval_id}/decision", bearer(chief), decision)
    assert response.status_code == 200, response.text
    return approval_id


async def granted(linkage: Linkage, mover: Mover, **term: int) -> tuple[str, int]:
    """A contractor signed in, with a grant of 課税課 approved by its chief: the chief's token and the grant id."""
    chief = await linkage.staff_token(CITY, "kazei-chief", "課税課", title="課長")
    staff = await linkage.staff_token(CITY, "kazei-001", "課税課")
    details = grant_details(mover, **term)
    approval_id = await approved(linkage, chief, staff, details)
    response = await call(linkage, "POST", "/contract-grants", bearer(staff), {**details, "approval_id": approval_id})
    assert response.status_code == 201, response.text
    grant_id: int = response.json()["grant_id"]
    return chief, grant_id


async def read(linkage: Linkage, token: str, address_number: str, items: list[str] = INCOME_ITEMS) -> httpx.Response:
    body = {"address_number": address_number, "item_codes": items}
    return await call(linkage, "POST", "/contractor/copies", bearer(token), body)


async def test_a_grant_without_an_approved_approval_is_refused(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    await contractor_token(linkage)
    await linkage.staff_token(CITY, "kazei-chief", "課税課", title="課長")
    staff = await linkage.staff_token(CITY, "kazei-001", "課税課")
    details = grant_details(mover)
    pending = await call(
        linkage,
        "POST",
        "/approvals",
        bearer(staff),
        {"action": "contractor_grant", "details": details, "reason": "委託"},
    )

    response = await call(
        linkage, "POST", "/contract-grants", bearer(staff), {**details, "approval_id": pending.json()["approval_id"]}
    )

    assert (response.status_code, response.json()["code"]) == (409, "approval_pending")
    listed = await call(linkage, "GET", "/contract-grants", bearer(staff))
    assert listed.json() == []


async def test_a_grant_wider_than_its_approval_is_refused_and_the_approval_stays_usable(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    await contractor_token(linkage)
    chief = await linkage.staff_token(CITY, "kazei-chief", "課税課", title="課長")
    staff = await linkage.staff_token(CITY, "kazei-001", "課税課")
    details = grant_details(mover)
    approval_id = await approved(linkage, chief, staff, details)

    wider = {**details, "valid_to": (date.today() + timedelta(days=365)).isoformat(), "approval_id": approval_id}
    response = await call(linkage, "POST", "/contract-grants", bearer(staff), wider)

    assert (response.status_code, response.json()["code"]) == (409, "approval_details_mismatch")
    response = await call(linkage, "POST", "/contract-grants", bearer(staff), {**details, "approval_id": approval_id})
    assert response.status_code == 201, response.text


async def test_a_contractor_reads_a_granted_person_within_the_term_and_it_is_logged(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await contractor_token(linkage)
    await granted(linkage, mover)

    response = await read(linkage, token, mover.address_numbers[CITY.slug])

    assert response.status_code == 200, response.text
    assert {i["item_code"]: i["value"] for i in response.json()["items"]} == {
        "tax.taxable_income": mover.taxable_income,
        "tax.income_levy": mover.income_levy,
    }
    [entry] = (await linkage.access_log(CITY))["entries"]
    assert (entry["staff_id"], entry["department"], entry["outcome"]) == (f"contractor:{CONTRACTOR}", "課税課", "read")
    assert entry["purpose"] == "学習支援事業(生活保護世帯)"


async def test_a_person_outside_the_grant_is_refused_as_out_of_scope(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await contractor_token(linkage)
    await granted(linkage, mover)

    response = await read(linkage, token, "123456789012345")

    assert (response.status_code, response.json()["code"]) == (403, "contract_scope")
    [entry] = (await linkage.access_log(CITY))["entries"]
    assert entry["outcome"] == "refused:contract_scope"


async def test_an_item_outside_the_grant_is_refused_as_out_of_scope(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await contractor_token(linkage)
    await granted(linkage, mover)

    response = await read(linkage, token, mover.address_numbers[CITY.slug], [*INCOME_ITEMS, "tax.exemption_status"])

    assert (response.status_code, response.json()["code"]) == (403, "contract_scope")
    assert str(mover.taxable_income) not in response.text


async def test_reads_before_and_after_the_term_are_refused(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await contractor_token(linkage)
    chief, _grant = await granted(linkage, mover, starts=5, ends=30)
    staff = await linkage.staff_token(CITY, "kazei-002", "課税課")
    ended = grant_details(mover, starts=-30, ends=-5)
    approval_id = await approved(linkage, chief, staff, ended)
    response = await call(linkage, "POST", "/contract-grants", bearer(staff), {**ended, "approval_id": approval_id})
    assert response.status_code == 201, response.text

    response = await read(linkage, token, mover.address_numbers[CITY.slug])

    assert (response.status_code, response.json()["code"]) == (403, "contract_out_of_term")
    [entry] = (await linkage.access_log(CITY))["entries"]
    assert entry["outcome"] == "refused:contract_out_of_term"


async def test_staff_endpoints_refuse_a_contractor_token(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await contractor_token(linkage)
    await granted(linkage, mover)
    here = mover.address_numbers[CITY.slug]

    async with linkage.network.client_for(CITY.intermediate_host) as client:
        view = await client.get(
            "/views/copies", params={"address_number": here, "item_codes": INCOME_ITEMS}, headers=bearer(token)
        )
    export = await call(linkage, "POST", "/exports", bearer(token), {"approval_id": 1})
    query = await linkage.staff_query(CITY, token, here)
    password = await call(
        linkage, "POST", "/staff/me/password", bearer(token), {"current_password": PASSWORD, "new_password": PASSWORD}
    )

    for response in (view, export, query, password):
        assert (response.status_code, response.json()["code"]) == (401, "staff_token_invalid")


async def test_the_chief_sees_the_contractor_accesses_and_another_department_does_not(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await contractor_token(linkage)
    chief, grant_id = await granted(linkage, mover)
    await read(linkage, token, mover.address_numbers[CITY.slug])
    await read(linkage, token, "123456789012345")
    other = await linkage.staff_token(CITY, "hoken-001", "保険年金課")
    colleague = (await linkage.log_in(CITY, "kazei-001")).json()["token"]

    seen = await call(linkage, "GET", f"/contract-grants/{grant_id}/accesses", bearer(chief))
    refused = await call(linkage, "GET", f"/contract-grants/{grant_id}/accesses", bearer(other))
    not_chief = await call(linkage, "GET", f"/contract-grants/{grant_id}/accesses", bearer(colleague))

    assert seen.status_code == 200, seen.text
    assert [(a["address_number"], a["outcome"]) for a in seen.json()] == [
        (mover.address_numbers[CITY.slug], "read"),
        ("123456789012345", "refused:contract_scope"),
    ]
    assert (refused.status_code, refused.json()["code"]) == (404, "contract_grant_not_found")
    assert (not_chief.status_code, not_chief.json()["code"]) == (403, "not_department_chief")


async def test_a_signed_out_contractor_token_is_refused(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await contractor_token(linkage)
    await granted(linkage, mover)

    signed_out = await call(linkage, "DELETE", "/contractor/sessions/current", bearer(token))
    response = await read(linkage, token, mover.address_numbers[CITY.slug])

    assert signed_out.status_code == 204
    assert (response.status_code, response.json()["code"]) == (401, "contractor_token_invalid")
