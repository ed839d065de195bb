"""自己情報提供 (JTK): a resident logged in to My Portal sees the copies a city holds about them.

My Portal asks the broker by its own symbol for the resident; the broker checks the whitelist,
translates the symbol to the city's, forwards to the city's JTK and records the provision; the
city answers from its copies, sealed to My Portal, and keeps its own record. The broker reads and
keeps nothing of the answer, and no one but My Portal may ask for a resident's own information.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from portal.own_information.service import SELF_INFORMATION, disclosable_items
from portal.sessions.models import PortalSession
from services.app import ServiceIdentity
from services.whitelist import WhitelistRow
from tests.unit.linkage_fixture import (
    BROKER,
    HIGASHIMURAYAMA,
    INCOME_ITEMS,
    KODAIRA,
    OPERATOR,
    Linkage,
    Mover,
    stored_text,
)
from tests.unit.portal.portal_fixture import PORTAL, login

DISCLOSABLE = {
    "tax.taxable_income",
    "tax.income_levy",
    "tax.exemption_status",
    "resident.household",
    "welfare.protection_status",
    "child_allowance.payment",
    "nhi.enrollment",
}


async def own_information(linkage: Linkage, session: dict[str, str], institution: str) -> httpx.Response:
    async with linkage.network.client_for(PORTAL) as portal:
        return await portal.get("/api/me/own-information", params={"institution": institution}, headers=session)


async def held_as_of(linkage: Linkage, mover: Mover, item_code: str) -> str:
    """The source date of the copy 小平市 holds, as its operator sees it."""
    body = {"address_number": mover.address_numbers["kodaira"], "item_code": item_code}
    async with linkage.network.client_for(KODAIRA.intermediate_host) as client:
        response = await client.post("/copies/history", json=body, headers=OPERATOR)
    assert response.status_code == 200, response.text
    [period] = response.json()["periods"]
    as_of: str = period["as_of"]
    return as_of


async def portal_symbol(linkage: Linkage) -> str:
    """The portal's symbol for the (only) logged-in resident, as the portal stores it."""
    async with linkage.database(PORTAL).sessions() as session:
        [symbol] = (await session.scalars(select(PortalSession.symbol))).all()
    return symbol


async def test_resident_sees_the_copies_a_city_holds_about_them_with_their_dates(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    session = await login(linkage, mover.individual_number)

    response = await own_information(linkage, session, KODAIRA.code)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["institution_code"] == KODAIRA.code
    items = {item["item_code"]: item for item in answer["items"]}
    assert {code: (item["period"], item["value"]) for code, item in items.items() if code in INCOME_ITEMS} == {
        "tax.taxable_income": (str(mover.tax_year), mover.taxable_income),
        "tax.income_levy": (str(mover.tax_year), mover.income_levy),
    }
    assert items["tax.taxable_income"]["name"] == "総所得金額等（地方税関係情報）"
    assert items["tax.taxable_income"]["as_of"] == await held_as_of(linkage, mover, "tax.taxable_income")
    # Every disclosable item is either shown or named as not held: nothing is silently left out.
    assert set(items) | {item["code"] for item in answer["missing_items"]} == DISCLOSABLE
    assert set(items).isdisjoint(item["code"] for item in answer["missing_items"])


async def test_own_information_request_is_in_the_residents_records_and_the_citys_but_not_the_staff_log(
    linkage: Linkage,
) -> None:
    mover = await linkage.move_resident()
    session = await login(linkage, mover.individual_number)
    query_id = (await own_information(linkage, session, KODAIRA.code)).json()["query_id"]

    async with linkage.network.client_for(PORTAL) as portal:
        records = (await portal.get("/api/me/provision-records", headers=session)).json()["records"]
        proof = (await portal.get(f"/api/me/provision-records/{query_id}/proof", headers=session)).json()
    [record] = [r for r in records if r["query_id"] == query_id]
    assert record["requester"] == {"code": "portal", "name": "マイナポータル"}
    assert record["provider"] == {"code": KODAIRA.code, "name": KODAIRA.name}
    assert record["procedure"] == {"code": SELF_INFORMATION, "name": "自己情報提供"}
    assert {item["code"] for item in record["items"]} == DISCLOSABLE
    assert (record["outcome"], record["outcome_code"]) == ("provided", "provided")
    assert (proof["verified"], proof["problem"]) == (True, None)

    async with linkage.network.client_for(KODAIRA.intermediate_host) as kodaira:
        response = await kodaira.get("/provision-records", params={"direction": "provided"}, headers=OPERATOR)
    [city_record] = response.json()
    assert city_record["query_id"] == query_id
    assert (city_record["requester_code"], city_record["procedure_code"]) == ("portal", SELF_INFORMATION)
    assert city_record["address_number"] == mover.address_numbers["kodaira"]
    assert city_record["whitelist_row"] == "R016"
    assert set(INCOME_ITEMS) <= set(city_record["provided_items"])
    assert (await linkage.access_log(KODAIRA))["entries"] == []  # no staff member read anything


async def test_broker_keeps_and_logs_nothing_of_the_answer_and_keeps_each_symbol_to_its_side(
    linkage: Linkage, caplog: pytest.LogCaptureFixture
) -> None:
    mover = await linkage.move_resident()
    session = await login(linkage, mover.individual_number)
    forwarded: list[str] = []
    linkage.network.transport.apps[KODAIRA.intermediate_host] = RequestRecorder(
        linkage.network.apps[KODAIRA.intermediate_host], forwarded
    )

    with caplog.at_level(logging.DEBUG):
        response = await own_information(linkage, session, KODAIRA.code)

    assert response.status_code == 200, response.text
    assert str(mover.taxable_income) in response.text  # the resident saw it: it crossed the broker
    assert "/queries" in caplog.text, "the scan must see the calls through the broker"
    broker_data = await stored_text(linkage.database(BROKER))
    for content in (mover.taxable_income, mover.income_levy, mover.individual_number):
        assert str(content) not in broker_data
        assert str(content) not in caplog.text
    # 小平市 learns its own symbol for the person, never the portal's; the portal never 小平市's.
    [request] = [body for body in forwarded if SELF_INFORMATION in body]
    assert json.loads(request)["provider_symbol"] == await linkage.symbol_held_by(
        KODAIRA, mover.address_numbers["kodaira"]
    )
    assert await portal_symbol(linkage) not in request
    assert json.loads(request)["provider_symbol"] not in response.text


class RequestRecorder(httpx.ASGITransport):
    """Routes to the app as the harness does, keeping every request body it carries there."""

    def __init__(self, app: FastAPI, bodies: list[str]) -> None:
        super().__init__(app=app)
        self.bodies = bodies

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append((await request.aread()).decode())
        return await super().handle_async_request(request)


async def test_broker_refuses_own_information_to_anyone_but_my_portal_and_records_it(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    city_symbol = await linkage.symbol_held_by(HIGASHIMURAYAMA, mover.address_numbers["higashimurayama"])
    ask = {
        "requester_symbol": city_symbol,
        "procedure_code": SELF_INFORMATION,
        "provider_code": KODAIRA.code,
        "item_codes": INCOME_ITEMS,
    }
    async with linkage.network.client_for(BROKER, signed_as=HIGASHIMURAYAMA.intermediate_host) as city:
        response = await city.post("/queries", json=ask)

    assert (response.status_code, response.json()["code"]) == (403, "not_on_whitelist")
    [record] = [r for r in await linkage.provision_records() if r["procedure_code"] == SELF_INFORMATION]
    assert (record["requester_code"], record["outcome"]) == (HIGASHIMURAYAMA.code, "refused")

    # My Portal may ask for nothing else, and never in a batch.
    invented = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32))
    async with linkage.network.client_for(BROKER, signed_as=PORTAL) as portal:
        other = await portal.post(
            "/queries", json={**ask, "requester_symbol": invented, "procedure_code": "child_allowance.certification"}
        )
        batch = await portal.post(
            "/queries/batch",
            json={"requester_symbols": [invented], **{k: v for k, v in ask.items() if k != "requester_symbol"}},
        )
    assert (other.status_code, other.json()["code"]) == (403, "not_on_whitelist")
    assert (batch.status_code, batch.json()["code"]) == (403, "caller_not_permitted")


async def test_city_answers_its_jtk_only_for_my_portal_and_only_under_self_information(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    forwarded = {
        "query_id": secrets.token_hex(16),
        "requester_code": "portal",
        "requester_key_id": "portal.portal",
        "provider_symbol": await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"]),
        "procedure_code": "child_allowance.certification",
        "item_codes": INCOME_ITEMS,
        "whitelist_row": "R001",
        "whitelist_version": "2026-10-01",
    }
    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=BROKER) as broker:
        other_procedure = await broker.post("/self-information", json=forwarded)
        other_requester = await broker.post(
            "/self-information",
            json={**forwarded, "procedure_code": SELF_INFORMATION, "requester_code": HIGASHIMURAYAMA.code,
                  "requester_key_id": f"{HIGASHIMURAYAMA.code}.portal"},
        )  # fmt: skip
        intermediate_key = await broker.post(
            "/self-information", json={**forwarded, "requester_key_id": HIGASHIMURAYAMA.intermediate_key_id}
        )
    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=PORTAL) as portal:
        not_the_broker = await portal.post("/self-information", json={**forwarded, "procedure_code": SELF_INFORMATION})

    assert (other_procedure.status_code, other_procedure.json()["code"]) == (403, "procedure_not_answered_here")
    assert (other_requester.status_code, other_requester.json()["code"]) == (404, "unknown_requester")
    assert intermediate_key.status_code == 422
    assert (not_the_broker.status_code, not_the_broker.json()["code"]) == (403, "caller_not_permitted")
    async with linkage.network.client_for(KODAIRA.intermediate_host) as kodaira:
        records = (await kodaira.get("/provision-records", headers=OPERATOR)).json()
    assert sorted(r["outcome_code"] for r in records) == ["procedure_not_answered_here", "unknown_requester"]
    assert all(r["provided_items"] == [] for r in records)


async def test_portal_answers_problems_for_no_session_an_unknown_city_and_a_city_that_is_down(
    linkage: Linkage,
) -> None:
    mover = await linkage.move_resident()
    session = await login(linkage, mover.individual_number)

    anonymous = await own_information(linkage, {}, KODAIRA.code)
    unknown = await own_information(linkage, session, "131016")  # 千代田区: not on this linkage
    malformed = await own_information(linkage, session, "13211")
    linkage.take_down(KODAIRA.intermediate_host)
    down = await own_information(linkage, session, KODAIRA.code)

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "bearer_token_missing")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_provider")
    assert malformed.status_code == 422
    assert (down.status_code, down.json()["code"]) == (503, "upstream_unavailable")
    for problem in (anonymous, unknown, malformed, down):
        assert problem.headers["content-type"] == "application/problem+json"


def test_the_items_my_portal_asks_a_city_for_are_those_rows_in_force_name_for_that_city() -> None:
    def row(row_id: str, providers: list[str], items: list[str], valid_to: str | None = None) -> dict[str, object]:
        return WhitelistRow(
            row_id=row_id,
            procedure=SELF_INFORMATION,
            requesters=frozenset({"portal"}),
            providers=frozenset(providers),
            items=frozenset(items),
            legal_basis="番号法第19条第7号",
            valid_from=date(2017, 11, 13),
            valid_to=date.fromisoformat(valid_to) if valid_to else None,
        ).published()

    whitelist = {
        "rows": [
            row("R1", ["municipality"], ["tax.taxable_income"]),
            row("R2", [KODAIRA.code], ["welfare.protection_status"]),
            row("R3", ["municipality"], ["nhi.enrollment"], valid_to="2020-03-31"),
        ]
    }
    portal = ServiceIdentity("portal", "マイナポータル", "portal", "portal")

    for_kodaira = disclosable_items(whitelist, portal, KODAIRA.code, date(2026, 12, 1))
    for_higashimurayama = disclosable_items(whitelist, portal, HIGASHIMURAYAMA.code, date(2026, 12, 1))

    assert for_kodaira == ["tax.taxable_income", "welfare.protection_status"]
    assert for_higashimurayama == ["tax.taxable_income"]
