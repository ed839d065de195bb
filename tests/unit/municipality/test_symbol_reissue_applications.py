"""FGU: a city applies for a reissue of its symbols only on its section chief's approval, and its
intermediate server switches symbols only for a reissue declared on its own application."""

from __future__ import annotations

from typing import Any

import httpx

from tests.unit.linkage_fixture import BROKER, HIGASHIMURAYAMA, KODAIRA, OPERATOR, City, Linkage, bearer

INCIDENT = "符号一覧を含むファイルが共有フォルダに置かれていた"


async def call(
    linkage: Linkage, city: City, method: str, path: str, token: str | None, body: Any = None
) -> httpx.Response:
    headers = bearer(token) if token else OPERATOR
    async with linkage.network.client_for(city.intermediate_host) as client:
        return await client.request(method, path, json=body, headers=headers)


async def system_staff(linkage: Linkage, city: City, suffix: str = "") -> tuple[str, str]:
    """A 情報政策課 member and its chief, signed in: their tokens."""
    applicant = await linkage.staff_token(city, f"joho-001{suffix}", "情報政策課")
    chief = await linkage.staff_token(city, f"joho-chief{suffix}", "情報政策課", title="課長")
    return applicant, chief


async def ask(linkage: Linkage, city: City, token: str, details: Any = None) -> httpx.Response:
    body = {
        "action": "symbol_reissue_application",
        "details": {"incident": INCIDENT} if details is None else details,
        "reason": "符号の漏えいのおそれ",
    }
    return await call(linkage, city, "POST", "/approvals", token, body)


async def approved(linkage: Linkage, city: City, applicant: str, chief: str) -> int:
    asked = await ask(linkage, city, applicant)
    assert asked.status_code == 201, asked.text
    approval_id: int = asked.json()["approval_id"]
    decided = await call(linkage, city, "POST", f"/approvals/{approval_id}/decision", chief, {"decision": "approve"})
    assert decided.status_code == 200, decided.text
    return approval_id


async def send(linkage: Linkage, city: City, token: str, approval_id: int) -> httpx.Response:
    return await call(linkage, city, "POST", "/symbol-reissue-applications", token, {"approval_id": approval_id})


async def apply_for_reissue(linkage: Linkage, city: City, suffix: str = "") -> str:
    """The whole city side: ask, approve, send; the broker's application id."""
    applicant, chief = await system_staff(linkage, city, suffix)
    sent = await send(linkage, city, applicant, await approved(linkage, city, applicant, chief))
    assert sent.status_code == 201, sent.text
    application_id: str = sent.json()["application_id"]
    return application_id


async def applications_at_broker(linkage: Linkage) -> list[dict[str, Any]]:
    async with linkage.network.client_for(BROKER) as client:
        created = await client.post("/administrators", json={"admin_id": "kato", "name": "kato"}, headers=OPERATOR)
        response = await client.get("/symbol-reissue-applications", headers=bearer(created.json()["token"]))
    assert response.status_code == 200, response.text
    applications: list[dict[str, Any]] = response.json()
    return applications


async def test_an_approved_application_reaches_the_broker_naming_who_asked_and_who_approved(linkage: Linkage) -> None:
    applicant, chief = await system_staff(linkage, KODAIRA)
    approval_id = await approved(linkage, KODAIRA, applicant, chief)

    sent = await send(linkage, KODAIRA, applicant, approval_id)

    assert sent.status_code == 201, sent.text
    assert (sent.json()["applied_by"], sent.json()["approved_by"]) == ("joho-001", "joho-chief")
    [received] = await applications_at_broker(linkage)
    assert received["application_id"] == sent.json()["application_id"]
    assert (received["institution_code"], received["incident"]) == (KODAIRA.code, INCIDENT)
    assert received["reissue_id"] is None
    listed = await call(linkage, KODAIRA, "GET", "/symbol-reissue-applications", applicant)
    assert [a["application_id"] for a in listed.json()] == [sent.json()["application_id"]]
    again = await send(linkage, KODAIRA, applicant, approval_id)
    assert (again.status_code, again.json()["code"]) == (409, "approval_consumed")


async def test_no_application_is_sent_on_a_pending_or_refused_approval(linkage: Linkage) -> None:
    applicant, chief = await system_staff(linkage, KODAIRA)
    pending = (await ask(linkage, KODAIRA, applicant)).json()["approval_id"]
    refused = (await ask(linkage, KODAIRA, applicant)).json()["approval_id"]
    decision = {"decision": "refuse", "reason": "漏えいは確認されていない"}
    await call(linkage, KODAIRA, "POST", f"/approvals/{refused}/decision", chief, decision)

    waiting = await send(linkage, KODAIRA, applicant, pending)
    denied = await send(linkage, KODAIRA, applicant, refused)

    assert (waiting.status_code, waiting.json()["code"]) == (409, "approval_pending")
    assert (denied.status_code, denied.json()["code"]) == (409, "approval_refused")
    assert await applications_at_broker(linkage) == []


async def test_only_the_system_department_asks_for_and_sends_an_application(linkage: Linkage) -> None:
    applicant, chief = await system_staff(linkage, KODAIRA)
    approval_id = await approved(linkage, KODAIRA, applicant, chief)
    tax_staff = await linkage.staff_token(KODAIRA, "kazei-001", "課税課")

    asked = await ask(linkage, KODAIRA, tax_staff)
    sent = await send(linkage, KODAIRA, tax_staff, approval_id)

    assert (asked.status_code, asked.json()["code"]) == (403, "action_not_permitted_for_role")
    assert sent.status_code == 403
    assert await applications_at_broker(linkage) == []


async def test_an_application_must_say_what_happened(linkage: Linkage) -> None:
    applicant, _chief = await system_staff(linkage, KODAIRA)

    empty = await ask(linkage, KODAIRA, applicant, {})
    extra = await ask(linkage, KODAIRA, applicant, {"incident": INCIDENT, "persons": ["100000000000001"]})
    number = await ask(linkage, KODAIRA, applicant, {"incident": "123456789012 の符号が漏えい"})

    assert empty.status_code == extra.status_code == number.status_code == 422


async def test_with_the_broker_down_the_approval_stays_unused_for_a_later_try(linkage: Linkage) -> None:
    applicant, chief = await system_staff(linkage, KODAIRA)
    approval_id = await approved(linkage, KODAIRA, applicant, chief)
    linkage.take_down(BROKER)

    failed = await send(linkage, KODAIRA, applicant, approval_id)

    assert failed.status_code == 503, failed.text
    assert (await call(linkage, KODAIRA, "GET", f"/approvals/{approval_id}", applicant)).json()["status"] == "approved"
    linkage.bring_back(BROKER)
    assert (await send(linkage, KODAIRA, applicant, approval_id)).status_code == 201


async def test_an_application_sent_again_is_the_same_one_at_the_broker(linkage: Linkage) -> None:
    """A retry after a lost answer must not leave the broker an application the city never recorded."""
    applicant, chief = await system_staff(linkage, KODAIRA)
    sent = (await send(linkage, KODAIRA, applicant, await approved(linkage, KODAIRA, applicant, chief))).json()
    again = {key: sent[key] for key in ("application_id", "incident", "applied_by", "approved_by")}

    async with linkage.network.client_for(BROKER, signed_as=KODAIRA.intermediate_host) as city:
        repeated = await city.post("/symbol-reissue-applications", json=again)
    async with linkage.network.client_for(BROKER, signed_as=HIGASHIMURAYAMA.intermediate_host) as other:
        taken = await other.post("/symbol-reissue-applications", json=again)

    assert (repeated.status_code, repeated.json()["application_id"]) == (201, sent["application_id"])
    assert (taken.status_code, taken.json()["code"]) == (409, "reissue_application_exists")
    assert [a["application_id"] for a in await applications_at_broker(linkage)] == [sent["application_id"]]
