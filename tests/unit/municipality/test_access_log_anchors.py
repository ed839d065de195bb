"""The staff access log as a verifiable log: its tree head is signed by the intermediate server and
anchored at the broker, and the auditor's checks (devnet.audit verify-access-log, through
services.access_log_audit.check_access_log) recompute every leaf and root from the downloaded log
and name the first entry edited or deleted, or where a rewrite after an anchor began."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select, text

from municipality.intermediate.access_log.models import StaffAccess
from municipality.intermediate.access_log.service import AccessFacts, leaf_fields, log_staff_accesses
from services.access_log_audit import ACCESS_LOG, access_leaf_hash, check_access_log
from services.db import Database
from services.keys import b64
from services.log_audit import AuditFailure
from services.log_tree import place_leaf
from services.merkle import root_hash
from tests.unit.linkage_fixture import (
    BROKER,
    CHILD_ALLOWANCE,
    HIGASHIMURAYAMA,
    INCOME_ITEMS,
    KODAIRA,
    OPERATOR,
    City,
    Linkage,
)

HOST = HIGASHIMURAYAMA.intermediate_host


def facts(seed: int, purpose: str | None = None) -> AccessFacts:
    return AccessFacts(
        staff_id="kosodate-001",
        department="子育て支援課",
        address_number=f"{seed:015d}",
        procedure_code=CHILD_ALLOWANCE,
        item_codes=INCOME_ITEMS,
        provider_code=KODAIRA.code,
        purpose=purpose,
    )


async def log_accesses(linkage: Linkage, count: int, start: int = 0, city: City = HIGASHIMURAYAMA) -> None:
    accesses = [(facts(start + i), "read") for i in range(count)]
    await log_staff_accesses(linkage.database(city.intermediate_host), accesses)


async def anchor_now(linkage: Linkage, city: City = HIGASHIMURAYAMA) -> dict[str, Any]:
    async with linkage.network.client_for(city.intermediate_host) as client:
        response = await client.post("/access-log/anchor", headers=OPERATOR)
    assert response.status_code == 200, response.text
    head: dict[str, Any] = response.json()
    return head


async def audit(linkage: Linkage, city: City = HIGASHIMURAYAMA) -> str:
    """What verify-access-log downloads, fetched in-process, then its checks."""
    async with linkage.network.client_for(city.intermediate_host) as client:
        head = (await client.get("/access-log/tree-head", headers=OPERATOR)).json()
        page = await client.get("/access-log/entries", params={"start": 0, "end": head["tree_size"]}, headers=OPERATOR)
    async with linkage.network.client_for(BROKER) as client:
        params = {"institution": city.code, "log": ACCESS_LOG}
        anchors = (await client.get("/log-anchors", params=params, headers=OPERATOR)).json()
        keys = {}
        for key_id in {head["key_id"], *(a["key_id"] for a in anchors)}:
            keys[key_id] = (await client.get(f"/registry/keys/{key_id}")).json()["signing_public_key"]
    return check_access_log(page.json()["entries"], head, anchors, keys)


async def tamper(linkage: Linkage, statement: str, **values: Any) -> None:
    async with linkage.database(HOST).engine.begin() as connection:
        await connection.execute(text(statement), values)


async def rewrite_from(database: Database, leaf_index: int, outcome: str) -> None:
    """An insider's rewrite that recomputes every column: entry `leaf_index` gets another outcome,
    and it and every later row get their leaf hash, subtrees and frontier again, consistently."""
    async with database.sessions() as session:
        rows = (await session.scalars(select(StaffAccess).order_by(StaffAccess.leaf_index))).all()
        rows[leaf_index].outcome = outcome
        frontier = rows[leaf_index - 1].frontier if leaf_index else b""
        for row in rows[leaf_index:]:
            place_leaf(row, access_leaf_hash(leaf_fields(row)), frontier)
            frontier = row.frontier
        await session.commit()


async def test_an_anchored_log_verifies_and_its_anchor_is_at_the_broker(linkage: Linkage) -> None:
    await log_accesses(linkage, 5)
    first = await anchor_now(linkage)
    await log_accesses(linkage, 3, start=5)
    second = await anchor_now(linkage)

    report = await audit(linkage)

    assert (first["tree_size"], second["tree_size"]) == (5, 8)
    assert second["anchored_at"] is not None
    assert report == "all 8 entries are as logged and extend 2 anchor(s) at the broker"


async def test_purpose_is_logged_and_covered_by_the_leaf(linkage: Linkage) -> None:
    await log_staff_accesses(linkage.database(HOST), [(facts(1, purpose="児童手当の認定"), "read")])
    await anchor_now(linkage)

    await tamper(linkage, "UPDATE staff_access_log SET purpose = NULL")

    log = await linkage.access_log(HIGASHIMURAYAMA)
    assert log["intact"] is False
    with pytest.raises(AuditFailure, match=r"entry 0 \(seq \d+\) differs from what was logged"):
        await audit(linkage)


async def test_an_edited_entry_is_named(linkage: Linkage) -> None:
    await log_accesses(linkage, 6)
    await anchor_now(linkage)

    await tamper(linkage, "UPDATE staff_access_log SET outcome = 'refused:x' WHERE leaf_index = 3")

    with pytest.raises(AuditFailure, match=r"entry 3 \(seq \d+\) differs from what was logged"):
        await audit(linkage)


async def test_a_deleted_entry_is_named(linkage: Linkage) -> None:
    await log_accesses(linkage, 6)
    await anchor_now(linkage)

    await tamper(linkage, "DELETE FROM staff_access_log WHERE leaf_index = 2")

    with pytest.raises(AuditFailure, match="leaf 2 is missing"):
        await audit(linkage)
    assert (await linkage.access_log(HIGASHIMURAYAMA))["intact"] is False


async def test_deleted_last_entries_are_detected_against_the_anchor(linkage: Linkage) -> None:
    await log_accesses(linkage, 6)
    await anchor_now(linkage)

    await tamper(linkage, "DELETE FROM staff_access_log WHERE leaf_index >= 4")
    await tamper(linkage, "DELETE FROM staff_access_log_heads")  # and the server's own heads

    with pytest.raises(AuditFailure, match="entries from 4 on were deleted"):
        await audit(linkage)


async def test_a_tail_rewritten_after_an_anchor_is_detected(linkage: Linkage) -> None:
    await log_accesses(linkage, 4)
    await anchor_now(linkage)
    await log_accesses(linkage, 4, start=4)
    await anchor_now(linkage)
    await log_accesses(linkage, 2, start=8)

    # Every column recomputed from entry 5 on, the server's heads dropped and a new one signed:
    # only the broker's anchor of size 8 still knows the entries as they were.
    await rewrite_from(linkage.database(HOST), 5, "read:rewritten")
    await tamper(linkage, "DELETE FROM staff_access_log_heads")
    assert (await linkage.access_log(HIGASHIMURAYAMA))["intact"] is True  # the server alone cannot tell

    with pytest.raises(AuditFailure, match=r"among 4\.\.7 was rewritten, the first suspect being entry 4"):
        await audit(linkage)


async def test_the_server_refuses_to_report_intact_a_tail_rewritten_after_its_own_head(linkage: Linkage) -> None:
    await log_accesses(linkage, 5)
    await anchor_now(linkage)

    await rewrite_from(linkage.database(HOST), 2, "read:rewritten")

    log = await linkage.access_log(HIGASHIMURAYAMA)
    assert (log["intact"], log["first_broken_entry"]) == (False, log["entries"][0]["seq"])


async def test_a_batch_appends_dense_leaves_in_one_transaction(linkage: Linkage) -> None:
    database = linkage.database(HOST)
    await log_accesses(linkage, 3)
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(database.engine.sync_engine, "commit", count)
    await log_accesses(linkage, 50, start=3)
    event.remove(database.engine.sync_engine, "commit", count)

    assert len(commits) == 1
    async with database.sessions() as session:
        rows = (await session.scalars(select(StaffAccess).order_by(StaffAccess.seq))).all()
    assert [row.leaf_index for row in rows] == list(range(53))
    head = await anchor_now(linkage)
    assert head["tree_size"] == 53
    assert b64(root_hash([access_leaf_hash(leaf_fields(row)) for row in rows])) == head["root_hash"]
