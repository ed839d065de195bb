"""My Portal proves each of the resident's provision records against the broker's signed log with
nothing but the broker's public key: a record as logged verifies; one edited in the broker's
database afterwards does not, and the resident is told so."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from tests.unit.linkage_fixture import (
    BROKER,
    HIGASHIMURAYAMA,
    KODAIRA,
    Linkage,
    synthetic_resident,
)
from tests.unit.portal.portal_fixture import PORTAL, login


async def proof_of(linkage: Linkage, session: dict[str, str], query_id: str) -> httpx.Response:
    async with linkage.network.client_for(PORTAL) as portal:
        return await portal.get(f"/api/me/provision-records/{query_id}/proof", headers=session)


async def provided_query(linkage: Linkage) -> tuple[str, str]:
    """A provided query about a mover: (the mover's individual number, the query id)."""
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    response = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])
    assert response.status_code == 200, response.text
    return mover.individual_number, str(response.json()["query_id"])


async def test_residents_record_verifies_until_it_is_edited_in_the_brokers_database(
    linkage: Linkage,
) -> None:
    linkage = linkage
    number, query_id = await provided_query(linkage)
    session = await login(linkage, number)
    async with linkage.network.client_for(PORTAL) as portal:
        listed = (await portal.get("/api/me/provision-records", headers=session)).json()["records"]
    assert [record["query_id"] for record in listed] == [query_id]

    response = await proof_of(linkage, session, query_id)
    assert response.status_code == 200, response.text
    proof: dict[str, Any] = response.json()
    assert (proof["verified"], proof["problem"]) == (True, None)
    assert proof["record"]["query_id"] == query_id
    assert proof["record"]["requester_code"] == HIGASHIMURAYAMA.code
    assert proof["tree_head"]["key_id"] == "broker.broker"
    assert proof["inclusion"]["leaf_index"] == listed[0]["leaf_index"]
    assert "person_serial" not in response.text and "provider_symbol" not in response.text

    async with linkage.database(BROKER).sessions() as broker_db:
        await broker_db.execute(
            text("UPDATE provision_records SET requester_code = :code WHERE query_id = :q"),
            {"code": KODAIRA.code, "q": query_id},
        )
        await broker_db.commit()
    tampered = (await proof_of(linkage, session, query_id)).json()
    assert tampered["verified"] is False
    assert tampered["record"]["requester_code"] == KODAIRA.code  # shown as the broker now holds it
    assert "differs from what the log holds" in tampered["problem"]


async def test_resident_gets_no_proof_of_anothers_record_and_none_without_a_session(
    linkage: Linkage,
) -> None:
    linkage = linkage
    _number, query_id = await provided_query(linkage)
    registered = await linkage.register_residents(KODAIRA, [synthetic_resident(7, KODAIRA)])
    [stranger] = registered.json()["residents"]
    session = await login(linkage, stranger["individual_number"])
    refused = await proof_of(linkage, session, query_id)
    assert (refused.status_code, refused.json()["code"]) == (403, "record_not_yours")
    anonymous = await proof_of(linkage, {}, query_id)
    assert anonymous.status_code == 401
