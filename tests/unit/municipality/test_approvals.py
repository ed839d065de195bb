"""SCM approvals (rule 6): a privileged operation needs the section chief's approval, or the
named deputy's while the chief is away; never the requester's own; every step is logged."""

from __future__ import annotations

from typing import Any

import httpx

from tests.unit.linkage_fixture import INCOME_ITEMS, KODAIRA, OPERATOR, Linkage, bearer

CITY = KODAIRA
EXPORT = {"item_codes": INCOME_ITEMS, "address_numbers": ["123456789012345"]}


async def call(linkage: Linkage, method: str, path: str, headers: dict[str, str], body: Any = None) -> httpx.Response:
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        return await client.request(method, path, json=body, headers=headers)


async def ask(
    linkage: Linkage, token: str, action: str = "bulk_export", details: Any = None, reason: str = "年次統計の作成"
) -> httpx.Response:
    body = {"action": action, "details": EXPORT if details is None else details, "reason": reason}
    return await call(linkage, "POST", "/approvals", bearer(token), body)


async def asked(linkage: Linkage, token: str, action: str = "bulk_export", details: Any = None) -> int:
    response = await ask(linkage, token, action, details)
    assert response.status_code == 201, response.text
    approval_id: int = response.json()["approval_id"]
    return approval_id


async def decide(
    linkage: Linkage, token: str, approval_id: int, decision: str = "approve", reason: str | None = None
) -> httpx.Response:
    body = {"decision": decision, "reason": reason}
    return await call(linkage, "POST", f"/approvals/{approval_id}/decision", bearer(token), body)


async def mark_absent(linkage: Linkage, staff_id: str, headers: dict[str, str] = OPERATOR) -> None:
    response = await call(linkage, "PUT", f"/staff/{staff_id}/absence", headers, {"absent": True})
    assert response.status_code == 200, response.text


async def approval_log(linkage: Linkage) -> list[dict[str, Any]]:
    response = await call(linkage, "GET", "/approvals/log", OPERATOR)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def tax_department(linkage: Linkage) -> tuple[str, str]:
    """課税課's chief and one of its staff: their tokens."""
    chief = await linkage.staff_token(CITY, "kazei-chief", "課税課", title="課長")
    staff = await linkage.staff_token(CITY, "kazei-001", "課税課")
    return chief, staff


async def test_the_section_chief_approves_a_request_of_their_department(linkage: Linkage) -> None:
    chief, staff = await tax_department(linkage)
    approval_id = await asked(linkage, staff)

    response = await decide(linkage, chief, approval_id, reason="統計目的を確認")

    assert response.status_code == 200, response.text
    approval = response.json()
    assert (approval["status"], approval["decided_by"], approval["requested_by"]) == (
        "approved",
        "kazei-chief",
        "kazei-001",
    )
    assert approval["details"] == EXPORT
    events = [(e["event"], e["staff_id"], e["approval_id"]) for e in await approval_log(linkage)]
    assert events == [("requested", "kazei-001", approval_id), ("approved", "kazei-chief", approval_id)]


async def test_while_the_chief_is_away_the_designated_deputy_approves(linkage: Linkage) -> None:
    chief, staff = await tax_department(linkage)
    deputy = await linkage.staff_token(CITY, "kazei-shusa", "課税課", title="主査")
    response = await call(linkage, "PUT", "/departments/課税課/deputy", bearer(chief), {"staff_id": "kazei-shusa"})
    assert response.status_code == 200, response.text
    approval_id = await asked(linkage, staff)

    refused = await decide(linkage, deputy, approval_id)  # the chief is in: the deputy does not decide
    await mark_absent(linkage, "kazei-chief", bearer(chief))
    approved = await decide(linkage, deputy, approval_id)

    assert (refused.status_code, refused.json()["code"]) == (403, "not_an_approver")
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "kazei-shusa")
    approvers = await call(linkage, "GET", "/departments/課税課/approvers", OPERATOR)
    assert approvers.json() == {
        "department": "課税課",
        "approvers": ["kazei-shusa"],
        "deputy": "kazei-shusa",
        "absent_chiefs": ["kazei-chief"],
    }


async def test_an_absent_chief_who_has_a_deputy_does_not_decide(linkage: Linkage) -> None:
    chief, staff = await tax_department(linkage)
    await linkage.staff_token(CITY, "kazei-shusa", "課税課", title="主査")
    await call(linkage, "PUT", "/departments/課税課/deputy", OPERATOR, {"staff_id": "kazei-shusa"})
    approval_id = await asked(linkage, staff)
    await mark_absent(linkage, "kazei-chief")

    response = await decide(linkage, chief, approval_id)

    assert (response.status_code, response.json()["code"]) == (403, "approver_absent")


async def test_an_absent_chief_without_a_deputy_leaves_nobody_to_approve(linkage: Linkage) -> None:
    chief, staff = await tax_department(linkage)
    approval_id = await asked(linkage, staff)
    await mark_absent(linkage, "kazei-chief")

    decision = await decide(linkage, chief, approval_id)
    new_request = await ask(linkage, staff)

    for response in (decision, new_request):
        assert (response.status_code, response.json()["code"]) == (409, "no_approver_available")
        assert "no deputy" in response.json()["detail"]
    assert (await call(linkage, "GET", f"/approvals/{approval_id}", bearer(staff))).json()["status"] == "pending"


async def test_nobody_decides_their_own_request(linkage: Linkage) -> None:
    chief, staff = await tax_department(linkage)
    await linkage.staff_token(CITY, "kazei-shusa", "課税課", title="主査")
    await call(linkage, "PUT", "/departments/課税課/deputy", bearer(chief), {"staff_id": "kazei-shusa"})
    approval_id = await asked(linkage, staff)
    chiefs_own = await asked(linkage, chief)  # the deputy decides the chief's own requests

    own = await decide(linkage, staff, approval_id)
    chief_own = await decide(linkage, chief, chiefs_own)

    assert (own.status_code, own.json()["code"]) == (403, "own_request")
    assert (chief_own.status_code, chief_own.json()["code"]) == (403, "own_request")
    events = [(e["event"], e["staff_id"]) for e in await approval_log(linkage)]
    assert ("decision_refused:own_request", "kazei-001") in events


async def test_a_chief_must_name_a_deputy_before_asking_themselves(linkage: Linkage) -> None:
    chief = await linkage.staff_token(CITY, "kazei-chief", "課税課", title="課長")

    response = await ask(linkage, chief)

    assert (response.status_code, response.json()["code"]) == (409, "no_approver_available")


async def test_staff_and_other_departments_chiefs_are_not_approvers(linkage: Linkage) -> None:
    _chief, staff = await tax_department(linkage)
    colleague = await linkage.staff_token(CITY, "kazei-002", "課税課")
    other_chief = await linkage.staff_token(CITY, "hoken-chief", "保険年金課", title="課長")
    approval_id = await asked(linkage, staff)

    for token in (colleague, other_chief):
        response = await decide(linkage, token, approval_id)
        assert (response.status_code, response.json()["code"]) == (403, "not_an_approver")
    assert (await call(linkage, "GET", f"/approvals/{approval_id}", bearer(staff))).json()["status"] == "pending"


async def test_a_refusal_is_logged_with_its_reason(linkage: Linkage) -> None:
    chief, staff = await tax_department(linkage)
    approval_id = await asked(linkage, staff)

    without_reason = await decide(linkage, chief, approval_id, "refuse")
    refused = await decide(linkage, chief, approval_id, "refuse", reason="対象者が広すぎる")
    again = await decide(linkage, chief, approval_id)

    assert without_reason.status_code == 422
    assert (refused.status_code, refused.json()["status"]) == (200, "refused")
    assert (again.status_code, again.json()["code"]) == (409, "approval_already_decided")
    [*_, last] = [e for e in await approval_log(linkage) if e["event"] == "refused"]
    assert (last["staff_id"], last["approval_id"], last["detail"]) == ("kazei-chief", approval_id, "対象者が広すぎる")


async def test_a_deputy_must_be_a_senior_of_the_department_named_by_its_chief(linkage: Linkage) -> None:
    chief, staff = await tax_department(linkage)
    await linkage.staff_token(CITY, "hoken-shusa", "保険年金課", title="主査")

    not_senior = await call(linkage, "PUT", "/departments/課税課/deputy", bearer(chief), {"staff_id": "kazei-001"})
    elsewhere = await call(linkage, "PUT", "/departments/課税課/deputy", bearer(chief), {"staff_id": "hoken-shusa"})
    by_staff = await call(linkage, "PUT", "/departments/課税課/deputy", bearer(staff), {"staff_id": "kazei-001"})
    absence = await call(linkage, "PUT", "/staff/kazei-chief/absence", bearer(staff), {"absent": True})

    assert (not_senior.status_code, not_senior.json()["code"]) == (400, "deputy_not_senior_staff")
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (400, "deputy_not_senior_staff")
    assert (by_staff.status_code, by_staff.json()["code"]) == (403, "not_department_chief")
    assert (absence.status_code, absence.json()["code"]) == (403, "absence_not_permitted")


async def test_a_role_change_is_applied_only_with_an_approval(linkage: Linkage) -> None:
    await linkage.staff_token(CITY, "kazei-001", "課税課")
    admin = await linkage.staff_token(CITY, "joho-001", "情報政策課")
    admin_chief = await linkage.staff_token(CITY, "joho-chief", "情報政策課", title="課長")
    change = {"staff_id": "kazei-001", "department": "生活福祉課", "title": "主査"}
    approval_id = await asked(linkage, admin, "role_change", change)

    early = await call(linkage, "POST", "/role-changes", bearer(admin), {"approval_id": approval_id})
    await decide(linkage, admin_chief, approval_id)
    applied = await call(linkage, "POST", "/role-changes", bearer(admin), {"approval_id": approval_id})
    again = await call(linkage, "POST", "/role-changes", bearer(admin), {"approval_id": approval_id})

    assert (early.status_code, early.json()["code"]) == (409, "approval_pending")
    assert applied.status_code == 200, applied.text
    assert applied.json() | {"approval_id": 0} == {
        "approval_id": 0,
        "staff_id": "kazei-001",
        "department": "生活福祉課",
        "title": "主査",
        "previous_department": "課税課",
        "previous_title": "担当",
    }
    assert (again.status_code, again.json()["code"]) == (409, "approval_consumed")
    signed_in = await linkage.log_in(CITY, "kazei-001")
    assert (signed_in.json()["staff"]["department"], signed_in.json()["staff"]["title"]) == ("生活福祉課", "主査")
    assert [e["event"] for e in await approval_log(linkage)][-2:] == ["consumed", "role_changed"]


async def test_only_the_system_department_asks_for_role_changes(linkage: Linkage) -> None:
    _chief, staff = await tax_department(linkage)

    response = await ask(linkage, staff, "role_change", {"staff_id": "kazei-chief", "title": "担当"})

    assert (response.status_code, response.json()["code"]) == (403, "action_not_permitted_for_role")
