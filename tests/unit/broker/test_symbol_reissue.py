"""Reissuing a city's symbols after a leak: the city applies on its chief's approval, one
administrator declares the leak on that application, a second confirms,
the broker derives new symbols, delivers old → new pairs to the city's intermediate server in
signed batches, which switches at once; then old symbols are refused and queries go on.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
from sqlalchemy import select

from broker.provision_records.models import ProvisionRecord
from broker.reissue.models import SymbolReissue
from broker.reissue.service import LEASE, claim_reissue
from services.db import utc_now
from tests.unit.broker.test_queries import child_allowance_token, signed_broker_query
from tests.unit.linkage_fixture import BROKER, HIGASHIMURAYAMA, KODAIRA, OPERATOR, City, Linkage, bearer
from tests.unit.municipality.test_symbol_reissue_applications import apply_for_reissue


async def administrator(linkage: Linkage, admin_id: str) -> dict[str, str]:
    """A named broker administrator, created by the operator; returns its auth header."""
    async with linkage.network.client_for(BROKER) as client:
        response = await client.post("/administrators", json={"admin_id": admin_id, "name": admin_id}, headers=OPERATOR)
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


async def declare_leak(
    linkage: Linkage, admin: dict[str, str], city: City, application_id: str | None = None
) -> httpx.Response:
    """Declare on `application_id`, or on a new application the city makes first."""
    if application_id is None:
        application_id = await apply_for_reissue(linkage, city, suffix=f"-{secrets.token_hex(3)}")
    declaration = {
        "institution_code": city.code,
        "application_id": application_id,
        "reason": "symbol list found on a shared drive",
    }
    async with linkage.network.client_for(BROKER) as client:
        return await client.post("/symbol-reissues", json=declaration, headers=admin)


async def confirm(linkage: Linkage, admin: dict[str, str], reissue_id: str) -> httpx.Response:
    async with linkage.network.client_for(BROKER) as client:
        return await client.post(f"/symbol-reissues/{reissue_id}/confirmation", headers=admin)


async def settled(linkage: Linkage, admin: dict[str, str], reissue_id: str) -> dict[str, Any]:
    """The reissue once its job has stopped (completed or failed) or it was cancelled."""
    async with linkage.network.client_for(BROKER) as client:
        for _ in range(200):
            reissue: dict[str, Any] = (await client.get(f"/symbol-reissues/{reissue_id}", headers=admin)).json()
            if reissue["status"] in {"completed", "failed", "cancelled"}:
                return reissue
            await asyncio.sleep(0.05)
    raise AssertionError(f"reissue {reissue_id} still {reissue['status']}")


async def reissue(linkage: Linkage, city: City) -> dict[str, Any]:
    """The whole recovery, as two administrators run it."""
    declarer, confirmer = await administrator(linkage, "sato"), await administrator(linkage, "suzuki")
    declared = await declare_leak(linkage, declarer, city)
    assert declared.status_code == 201, declared.text
    confirmed = await confirm(linkage, confirmer, declared.json()["reissue_id"])
    assert confirmed.status_code == 202, confirmed.text
    return await settled(linkage, confirmer, declared.json()["reissue_id"])


async def serials_of_records(linkage: Linkage) -> set[str | None]:
    async with linkage.database(BROKER).sessions() as session:
        return set(await session.scalars(select(ProvisionRecord.person_serial)))


async def test_provider_reissue_switches_its_symbols_and_queries_keep_their_answers(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await child_allowance_token(linkage)
    here = mover.address_numbers["higashimurayama"]
    before = await linkage.staff_query(HIGASHIMURAYAMA, token, here)
    assert before.status_code == 200, before.text
    old_symbol = await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])

    done = await reissue(linkage, KODAIRA)

    assert (done["status"], done["from_epoch"], done["to_epoch"]) == ("completed", 1, 2)
    assert done["persons"] == done["delivered"] == 1
    new_symbol = await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])
    assert new_symbol != old_symbol
    after = await linkage.staff_query(HIGASHIMURAYAMA, token, here)
    assert after.status_code == 200, after.text
    assert after.json()["items"] == before.json()["items"]
    records = {r["query_id"]: r for r in await linkage.provision_records()}
    assert records[before.json()["query_id"]]["provider_symbol"] == old_symbol
    assert records[after.json()["query_id"]]["provider_symbol"] == new_symbol
    # Both records still name the same person (by serial), so the resident sees both.
    assert len(await serials_of_records(linkage)) == 1


async def test_requesters_old_symbol_is_refused_as_revoked_after_its_reissue(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    here = mover.address_numbers["higashimurayama"]
    leaked = await linkage.symbol_held_by(HIGASHIMURAYAMA, here)

    done = await reissue(linkage, HIGASHIMURAYAMA)

    assert done["status"] == "completed", done
    refused = await signed_broker_query(linkage, leaked)
    assert refused.status_code == 403
    assert refused.json()["code"] == "symbol_revoked"
    answered = await signed_broker_query(linkage, await linkage.symbol_held_by(HIGASHIMURAYAMA, here))
    assert answered.status_code == 200, answered.text
    [revoked_record] = [r for r in await linkage.provision_records() if r["outcome_code"] == "symbol_revoked"]
    assert revoked_record["outcome"] == "refused"
    # The attempt with the leaked symbol is on the person's record, like every other.
    assert len(await serials_of_records(linkage)) == 1


async def test_queries_during_an_interrupted_reissue_are_refused_cleanly_until_it_resumes(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await child_allowance_token(linkage)
    here = mover.address_numbers["higashimurayama"]
    declarer, confirmer = await administrator(linkage, "sato"), await administrator(linkage, "suzuki")
    reissue_id = (await declare_leak(linkage, declarer, KODAIRA)).json()["reissue_id"]
    linkage.take_down(KODAIRA.intermediate_host)

    assert (await confirm(linkage, confirmer, reissue_id)).status_code == 202
    failed = await settled(linkage, confirmer, reissue_id)

    assert failed["status"] == "failed"
    assert failed["phase"] == "delivering"
    assert "upstream_unavailable" in failed["error"]
    linkage.bring_back(KODAIRA.intermediate_host)
    during = await linkage.staff_query(HIGASHIMURAYAMA, token, here)
    assert during.status_code == 409
    assert during.json()["code"] == "symbol_reissue_in_progress"
    assert any(r["outcome_code"] == "symbol_reissue_in_progress" for r in await linkage.provision_records())

    async with linkage.network.client_for(BROKER) as client:
        resumed = await client.post(f"/symbol-reissues/{reissue_id}/resumption", headers=declarer)
    assert resumed.status_code == 202, resumed.text
    assert (await settled(linkage, declarer, reissue_id))["status"] == "completed"
    after = await linkage.staff_query(HIGASHIMURAYAMA, token, here)
    assert after.status_code == 200, after.text
    assert {item["value"] for item in after.json()["items"]} == {mover.taxable_income, mover.income_levy}


async def test_declarer_cannot_confirm_their_own_declaration(linkage: Linkage) -> None:
    declarer = await administrator(linkage, "sato")
    reissue_id = (await declare_leak(linkage, declarer, KODAIRA)).json()["reissue_id"]

    response = await confirm(linkage, declarer, reissue_id)

    assert response.status_code == 403
    assert response.json()["code"] == "confirmation_by_declarer"
    async with linkage.network.client_for(BROKER) as client:
        still = (await client.get(f"/symbol-reissues/{reissue_id}", headers=declarer)).json()
    assert still["status"] == "awaiting_confirmation"


async def test_a_second_declaration_for_the_same_city_waits_for_the_first(linkage: Linkage) -> None:
    declarer = await administrator(linkage, "sato")
    first = await declare_leak(linkage, declarer, KODAIRA)

    second = await declare_leak(linkage, declarer, KODAIRA)

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["code"] == "reissue_already_open"


async def cancel(linkage: Linkage, admin: dict[str, str], reissue_id: str) -> httpx.Response:
    async with linkage.network.client_for(BROKER) as client:
        return await client.post(f"/symbol-reissues/{reissue_id}/cancellation", headers=admin)


async def test_a_declaration_nobody_confirmed_is_cancelled_and_its_application_declared_on_again(
    linkage: Linkage,
) -> None:
    declarer, confirmer = await administrator(linkage, "sato"), await administrator(linkage, "suzuki")
    application_id = await apply_for_reissue(linkage, KODAIRA)
    mistaken = (await declare_leak(linkage, declarer, KODAIRA, application_id)).json()["reissue_id"]

    cancelled = await cancel(linkage, confirmer, mistaken)
    confirm_after = await confirm(linkage, confirmer, mistaken)
    again = await declare_leak(linkage, declarer, KODAIRA, application_id)
    await confirm(linkage, confirmer, again.json()["reissue_id"])

    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancelled_by"]) == ("cancelled", "suzuki")
    assert (confirm_after.status_code, confirm_after.json()["code"]) == (409, "reissue_not_awaiting_confirmation")
    assert again.status_code == 201, again.text
    assert (await settled(linkage, confirmer, again.json()["reissue_id"]))["status"] == "completed"
    assert (await cancel(linkage, confirmer, again.json()["reissue_id"])).json()["code"] == (
        "reissue_not_awaiting_confirmation"
    )


async def test_a_confirmation_and_a_cancellation_sent_at_once_do_not_both_take_effect(linkage: Linkage) -> None:
    declarer, confirmer = await administrator(linkage, "sato"), await administrator(linkage, "suzuki")
    reissue_id = (await declare_leak(linkage, declarer, KODAIRA)).json()["reissue_id"]

    confirmed, cancelled = await asyncio.gather(
        confirm(linkage, confirmer, reissue_id), cancel(linkage, declarer, reissue_id)
    )

    assert {confirmed.status_code, cancelled.status_code} in ({202, 409}, {200, 409}), (confirmed.text, cancelled.text)
    final = (await settled(linkage, confirmer, reissue_id))["status"]
    assert final == ("completed" if confirmed.status_code == 202 else "cancelled")


async def test_only_named_administrators_declare_and_only_the_operator_creates_them(linkage: Linkage) -> None:
    assert (await declare_leak(linkage, OPERATOR, KODAIRA)).json()["code"] == "administrator_token_invalid"
    async with linkage.network.client_for(BROKER) as client:
        response = await client.post("/administrators", json={"admin_id": "mallory", "name": "m"}, headers=bearer("x"))
    assert response.status_code == 401
    assert response.json()["code"] == "operator_token_invalid"


async def test_a_city_cannot_push_symbol_changes_to_another_citys_server(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    symbol = await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])
    batch = {"batches": 1, "mappings": [{"old_symbol": symbol, "new_symbol": "A" * 32}]}

    async with linkage.network.client_for(
        KODAIRA.intermediate_host, signed_as=HIGASHIMURAYAMA.intermediate_host
    ) as client:
        response = await client.post(f"/symbol-reissues/{'0' * 32}/batches/0", json=batch)

    assert response.status_code == 403
    assert await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"]) == symbol


async def test_commit_with_missing_batches_changes_nothing(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    symbol = await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])
    reissue_id = "f" * 32
    batch = {"batches": 2, "mappings": [{"old_symbol": symbol, "new_symbol": "B" * 32}]}

    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=BROKER) as client:
        staged = await client.post(f"/symbol-reissues/{reissue_id}/batches/0", json=batch)
        commit = await client.post(
            f"/symbol-reissues/{reissue_id}/commit",
            json={"batches": 2, "mappings": 2, "application_id": await apply_for_reissue(linkage, KODAIRA)},
        )

    assert staged.status_code == 200, staged.text
    assert commit.status_code == 409
    assert commit.json()["code"] == "reissue_incomplete"
    assert await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"]) == symbol


async def test_only_one_broker_replica_holds_a_running_reissue_until_its_lease_expires(linkage: Linkage) -> None:
    declarer, confirmer = await administrator(linkage, "sato"), await administrator(linkage, "suzuki")
    reissue_id = (await declare_leak(linkage, declarer, KODAIRA)).json()["reissue_id"]
    linkage.take_down(KODAIRA.intermediate_host)  # the job fails at delivery and keeps no lease
    await confirm(linkage, confirmer, reissue_id)
    await settled(linkage, confirmer, reissue_id)
    async with linkage.database(BROKER).sessions() as session:
        reissue = await session.get(SymbolReissue, reissue_id)
        assert reissue is not None
        reissue.status = "running"  # as if a replica were running it
        await session.commit()
    now = utc_now()

    async with linkage.database(BROKER).sessions() as session:
        first = await claim_reissue(session, reissue_id, "replica-a", now)
        second = await claim_reissue(session, reissue_id, "replica-b", now + LEASE / 2)
        renewed = await claim_reissue(session, reissue_id, "replica-a", now + LEASE / 2)
        taken_over = await claim_reissue(session, reissue_id, "replica-b", now + LEASE * 2)
        await session.commit()

    assert (first, second, renewed, taken_over) == (True, False, True, True)


async def test_a_declaration_names_an_unused_application_of_that_city(linkage: Linkage) -> None:
    declarer = await administrator(linkage, "sato")
    kodaira_application = await apply_for_reissue(linkage, KODAIRA)

    unknown = await declare_leak(linkage, declarer, KODAIRA, "0" * 32)
    other_city = await declare_leak(linkage, declarer, HIGASHIMURAYAMA, kodaira_application)
    async with linkage.network.client_for(BROKER) as client:
        missing = await client.post(
            "/symbol-reissues", json={"institution_code": KODAIRA.code, "reason": "leak"}, headers=declarer
        )
        listed = await client.get("/symbol-reissues", headers=declarer)

    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_reissue_application")
    assert (other_city.status_code, other_city.json()["code"]) == (409, "reissue_application_of_another_institution")
    assert missing.status_code == 422
    assert listed.json() == []


async def test_one_application_serves_one_reissue(linkage: Linkage) -> None:
    declarer, confirmer = await administrator(linkage, "sato"), await administrator(linkage, "suzuki")
    application_id = await apply_for_reissue(linkage, KODAIRA)
    first = await declare_leak(linkage, declarer, KODAIRA, application_id)
    await confirm(linkage, confirmer, first.json()["reissue_id"])
    assert (await settled(linkage, confirmer, first.json()["reissue_id"]))["status"] == "completed"

    again = await declare_leak(linkage, declarer, KODAIRA, application_id)

    assert first.json()["application_id"] == application_id
    assert (again.status_code, again.json()["code"]) == (409, "reissue_application_used")


async def test_the_city_switches_nothing_for_a_reissue_it_did_not_apply_for(linkage: Linkage) -> None:
    """Even a broker that skipped the check cannot switch a city's symbols without its application."""
    mover = await linkage.move_resident()
    symbol = await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"])
    reissue_id = "e" * 32
    batch = {"batches": 1, "mappings": [{"old_symbol": symbol, "new_symbol": "C" * 32}]}
    others = await apply_for_reissue(linkage, HIGASHIMURAYAMA)

    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=BROKER) as client:
        await client.post(f"/symbol-reissues/{reissue_id}/batches/0", json=batch)
        commits = [
            await client.post(
                f"/symbol-reissues/{reissue_id}/commit",
                json={"batches": 1, "mappings": 1, "application_id": application_id},
            )
            for application_id in ("0" * 32, others)
        ]

    assert [(c.status_code, c.json()["code"]) for c in commits] == [(409, "reissue_not_applied_for")] * 2
    assert await linkage.symbol_held_by(KODAIRA, mover.address_numbers["kodaira"]) == symbol
