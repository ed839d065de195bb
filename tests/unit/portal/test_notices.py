"""お知らせ (OSR): a city's clerk sends a notice to a resident, who reads it in My Portal.

The city seals the notice to My Portal's key and hands it to the broker by its own symbol for the
person; the broker translates the symbol into My Portal's and forwards it, keeping only a delivery
record; My Portal keeps it sealed under its symbol until the resident reads it.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from sqlalchemy import select

from broker.notices.models import NoticeDelivery
from municipality.intermediate.app import ROLES_FILE
from portal.notices.models import PortalNotice
from services.rbac import RoleGrants
from services.sealing import seal_json
from tests.unit.linkage_fixture import BROKER, HIGASHIMURAYAMA, KODAIRA, OPERATOR, Linkage, bearer, stored_text
from tests.unit.portal.portal_fixture import PORTAL, login

TITLE = "児童手当の現況届のお願い"
BODY = "6月30日までに現況届を提出してください。ご不明な点は子育て支援課までお問い合わせください。"
ROLES = RoleGrants.from_yaml(ROLES_FILE)


async def send_notice(
    linkage: Linkage, token: str, address_number: str, *, title: str = TITLE, body: str = BODY
) -> httpx.Response:
    notice = {"address_number": address_number, "title": title, "body": body}
    async with linkage.network.client_for(HIGASHIMURAYAMA.intermediate_host) as city:
        return await city.post("/notices", json=notice, headers=bearer(token))


async def my_notices(linkage: Linkage, session: dict[str, str]) -> list[dict[str, object]]:
    async with linkage.network.client_for(PORTAL) as portal:
        response = await portal.get("/api/me/notices", headers=session)
    assert response.status_code == 200, response.text
    notices: list[dict[str, object]] = response.json()["notices"]
    return notices


async def sent_record(linkage: Linkage) -> dict[str, object]:
    """東村山市's only record of a notice sent, as its operator reads it."""
    async with linkage.network.client_for(HIGASHIMURAYAMA.intermediate_host) as city:
        response = await city.get("/notices", headers=OPERATOR)
    assert response.status_code == 200, response.text
    [record] = response.json()
    assert isinstance(record, dict)
    return record


async def deliveries(linkage: Linkage) -> list[tuple[str, str, str]]:
    """The broker's delivery records: sender, outcome and its code."""
    async with linkage.database(BROKER).sessions() as session:
        rows = await session.scalars(select(NoticeDelivery))
        return [(r.sender_code, r.outcome, r.outcome_code) for r in rows]


async def stored_ciphertexts(linkage: Linkage) -> list[str]:
    async with linkage.database(PORTAL).sessions() as session:
        return list(await session.scalars(select(PortalNotice.ciphertext)))


async def test_clerk_sends_a_notice_and_the_resident_reads_it_in_my_portal(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    session = await login(linkage, mover.individual_number)
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    address_number = mover.address_numbers["higashimurayama"]

    response = await send_notice(linkage, token, address_number)

    assert response.status_code == 201, response.text
    notice_id = response.json()["notice_id"]
    assert response.json()["outcome"] == "delivered"
    [notice] = await my_notices(linkage, session)
    assert notice["notice_id"] == notice_id
    assert (notice["title"], notice["body"]) == (TITLE, BODY)
    assert notice["sender"] == {"code": HIGASHIMURAYAMA.code, "name": HIGASHIMURAYAMA.name}
    assert notice["read_at"] is None

    async with linkage.network.client_for(PORTAL) as portal:
        read = await portal.post(f"/api/me/notices/{notice_id}/read", headers=session)
    assert read.status_code == 204, read.text
    [notice] = await my_notices(linkage, session)
    assert notice["read_at"] is not None

    record = await sent_record(linkage)
    assert (record["notice_id"], record["address_number"], record["staff_id"]) == (
        notice_id,
        address_number,
        "kosodate-001",
    )
    assert (record["outcome"], record["outcome_code"]) == ("delivered", "delivered")
    assert await deliveries(linkage) == [(HIGASHIMURAYAMA.code, "delivered", "delivered")]
    [entry] = (await linkage.access_log(HIGASHIMURAYAMA))["entries"]
    assert (entry["staff_id"], entry["address_number"], entry["procedure_code"], entry["outcome"]) == (
        "kosodate-001",
        address_number,
        "notices.send",
        "sent",
    )


async def test_newest_notice_comes_first_and_another_resident_sees_none_of_them(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    session = await login(linkage, mover.individual_number)
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    for title in ("一通目", "二通目"):
        response = await send_notice(linkage, token, mover.address_numbers["higashimurayama"], title=title)
        assert response.status_code == 201, response.text
    other = await linkage.move_resident(seed=2)
    other_session = await login(linkage, other.individual_number)

    assert [n["title"] for n in await my_notices(linkage, session)] == ["二通目", "一通目"]
    assert await my_notices(linkage, other_session) == []
    notice_id = (await my_notices(linkage, session))[0]["notice_id"]
    async with linkage.network.client_for(PORTAL) as portal:
        response = await portal.post(f"/api/me/notices/{notice_id}/read", headers=other_session)
    assert (response.status_code, response.json()["code"]) == (404, "unknown_notice")


async def test_a_notice_to_a_resident_who_never_logged_in_waits_for_their_first_login(linkage: Linkage) -> None:
    """The city cannot tell from the answer whether the resident uses My Portal."""
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")

    response = await send_notice(linkage, token, mover.address_numbers["higashimurayama"])
    session = await login(linkage, mover.individual_number)

    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "delivered"
    [notice] = await my_notices(linkage, session)
    assert (notice["notice_id"], notice["title"]) == (response.json()["notice_id"], TITLE)
    assert await deliveries(linkage) == [(HIGASHIMURAYAMA.code, "delivered", "delivered")]


async def test_notices_sent_at_once_before_the_first_login_all_wait_under_one_symbol(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    address_number = mover.address_numbers["higashimurayama"]

    sent = await asyncio.gather(*(send_notice(linkage, token, address_number, title=f"{TITLE} {n}") for n in range(3)))
    session = await login(linkage, mover.individual_number)

    assert [response.status_code for response in sent] == [201] * 3, [r.text for r in sent]
    assert sorted(str(notice["title"]) for notice in await my_notices(linkage, session)) == [
        f"{TITLE} {n}" for n in range(3)
    ]


async def test_broker_keeps_and_logs_neither_the_notice_nor_its_ciphertext(
    linkage: Linkage, caplog: pytest.LogCaptureFixture
) -> None:
    mover = await linkage.move_resident()
    session = await login(linkage, mover.individual_number)
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")

    with caplog.at_level(logging.DEBUG):
        response = await send_notice(linkage, token, mover.address_numbers["higashimurayama"])

    assert response.status_code == 201, response.text
    assert "/notices" in caplog.text, "the scan must see the calls through the broker"
    [ciphertext] = await stored_ciphertexts(linkage)
    broker_data = await stored_text(linkage.database(BROKER))
    assert "notice_deliveries" in broker_data  # the delivery record is there, and only that
    # My Portal's own write of the sealed notice is the only log line that may carry it.
    logged = "\n".join(r.getMessage() for r in caplog.records if "INSERT INTO portal_notices" not in r.getMessage())
    for content in (TITLE, BODY, ciphertext, ciphertext[:40]):
        assert content not in broker_data
        assert content not in logged
    # The city keeps who sent what to whom, not the text (it may name the person: rule 1).
    city_data = await stored_text(linkage.database(HIGASHIMURAYAMA.intermediate_host))
    assert TITLE not in city_data and BODY not in city_data
    assert (await my_notices(linkage, session))[0]["body"] == BODY


async def test_city_refuses_a_person_it_does_not_hold(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    await login(linkage, mover.individual_number)
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")

    # 小平市's address number for the mover names nobody in 東村山市.
    response = await send_notice(linkage, token, mover.address_numbers["kodaira"])

    assert (response.status_code, response.json()["code"]) == (404, "unknown_address_number")
    assert await stored_ciphertexts(linkage) == []


@pytest.mark.parametrize("department", sorted(ROLES.roles()))
async def test_department_sends_notices_exactly_when_its_role_deals_with_residents(
    linkage: Linkage, department: str
) -> None:
    mover = await linkage.move_resident()
    await login(linkage, mover.individual_number)
    token = await linkage.staff_token(HIGASHIMURAYAMA, "staff-001", department)
    role = ROLES.role(department)

    response = await send_notice(linkage, token, mover.address_numbers["higashimurayama"])

    [entry] = (await linkage.access_log(HIGASHIMURAYAMA))["entries"]
    if role.query or role.view:
        assert response.status_code == 201, response.text
        assert entry["outcome"] == "sent"
    else:  # 情報政策課 sees no personal data
        assert (response.status_code, response.json()["code"]) == (403, "notice_not_permitted_for_role")
        assert entry["outcome"] == "refused:notice_not_permitted_for_role"
        assert await stored_ciphertexts(linkage) == []


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (TITLE, "マイナンバー 1234 5678 9012 を確認しました。"),
        ("番号123456789012について", BODY),
        (TITLE, "x" * 2001),
        ("x" * 101, BODY),
    ],
)
async def test_city_refuses_a_number_in_the_text_or_a_text_too_long(linkage: Linkage, title: str, body: str) -> None:
    mover = await linkage.move_resident()
    await login(linkage, mover.individual_number)
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")

    response = await send_notice(linkage, token, mover.address_numbers["higashimurayama"], title=title, body=body)

    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")
    assert "1234" not in response.text  # the refusal does not repeat the number
    assert await stored_ciphertexts(linkage) == []


async def test_only_an_intermediate_server_hands_the_broker_notices_and_only_the_broker_my_portal(
    linkage: Linkage,
) -> None:
    mover = await linkage.move_resident()
    await login(linkage, mover.individual_number)
    symbol = await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])
    to_broker = {"notice_id": "0" * 32, "sender_symbol": symbol, "ciphertext": "c2VhbGVk"}
    async with linkage.network.client_for(BROKER, signed_as=PORTAL) as portal:
        from_portal = await portal.post("/notices", json=to_broker)
    async with linkage.network.client_for(BROKER, signed_as=KODAIRA.city_host) as city_systems:
        from_city_systems = await city_systems.post("/notices", json=to_broker)
    to_portal = {"notice_id": "0" * 32, "portal_symbol": symbol, "sender_code": KODAIRA.code, "ciphertext": "c2VhbGVk"}
    async with linkage.network.client_for(PORTAL, signed_as=KODAIRA.intermediate_host) as city:
        from_city = await city.post("/notices", json=to_portal)
    async with linkage.network.client_for(PORTAL) as anyone:
        unsigned = await anyone.post("/notices", json=to_portal)

    for response in (from_portal, from_city_systems, from_city):
        assert (response.status_code, response.json()["code"]) == (403, "caller_not_permitted")
    assert unsigned.status_code == 401, unsigned.text
    assert await stored_ciphertexts(linkage) == []


async def test_my_portal_refuses_a_notice_not_sealed_to_it_or_naming_another_sender(linkage: Linkage) -> None:
    portal_key = linkage.network.runtime(PORTAL).keys.encryption_public_b64()
    other_key = linkage.network.runtime(BROKER).keys.encryption_public_b64()
    notice_id = "1" * 32
    payload = {"notice_id": notice_id, "title": TITLE, "body": BODY, "sent_at": "2026-11-30T00:00:00+00:00"}
    from_kodaira = {**payload, "city": {"code": KODAIRA.code, "name": KODAIRA.name}}
    delivered = {"notice_id": notice_id, "portal_symbol": "A" * 32, "sender_code": HIGASHIMURAYAMA.code}

    async with linkage.network.client_for(PORTAL, signed_as=BROKER) as broker:
        not_for_portal = await broker.post(
            "/notices", json={**delivered, "ciphertext": seal_json(from_kodaira, other_key)}
        )
        # The broker vouches that 東村山市 sent it; the sealed text claims 小平市.
        another_sender = await broker.post(
            "/notices", json={**delivered, "ciphertext": seal_json(from_kodaira, portal_key)}
        )

    assert (not_for_portal.status_code, not_for_portal.json()["code"]) == (400, "notice_unreadable")
    assert (another_sender.status_code, another_sender.json()["code"]) == (400, "notice_mismatch")
    assert await stored_ciphertexts(linkage) == []


async def test_my_portal_takes_a_notice_delivered_twice_at_once_only_once(linkage: Linkage) -> None:
    """Two broker replicas relaying the same notice: one is kept, the other is told it exists."""
    portal_key = linkage.network.runtime(PORTAL).keys.encryption_public_b64()
    notice_id = "2" * 32
    payload = {"notice_id": notice_id, "title": TITLE, "body": BODY, "sent_at": "2026-11-30T00:00:00+00:00"}
    sealed = seal_json({**payload, "city": {"code": KODAIRA.code, "name": KODAIRA.name}}, portal_key)
    delivered = {"notice_id": notice_id, "portal_symbol": "A" * 32, "sender_code": KODAIRA.code, "ciphertext": sealed}

    async with linkage.network.client_for(PORTAL, signed_as=BROKER) as broker:
        responses = await asyncio.gather(*(broker.post("/notices", json=delivered) for _ in range(4)))

    outcomes = sorted((r.status_code, r.json().get("code")) for r in responses)
    assert outcomes[0][0] in (200, 201) and outcomes[1:] == [(409, "notice_exists")] * 3, outcomes
    assert await stored_ciphertexts(linkage) == [sealed]
