"""Logging every staff read of personal data, refused or not (DOMAIN rule 5), as the leaves of a
Merkle log (services.log_tree, services.access_log_audit).

Entries are appended in a transaction of their own, so that a refused read is logged too; a batch
query's persons are appended in one. `leaf_index` is unique, so of two concurrent appends that
read the same last row one fails to commit and retries on the new one: the leaves stay dense and
in commit order. This replaces the former hash chain: an edit or deletion the chain showed shows
in the leaf hashes and stored frontiers, and a rewrite the chain could not show (every entry
after the edited one recomputed) shows against the signed heads anchored at the broker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.access_log.models import SignedAccessLogHead, StaffAccess
from services.access_log_audit import access_leaf_hash, entry_leaf, first_bad_entry, first_departure
from services.db import Database, append_in_order, utc_now
from services.keys import b64
from services.log_tree import StoredTree, place_leaf
from services.merkle import TreeHead

TREE = StoredTree(StaffAccess)


@dataclass(frozen=True)
class AccessFacts:
    staff_id: str
    department: str
    address_number: str
    procedure_code: str
    item_codes: Sequence[str]
    provider_code: str
    purpose: str | None = None


def leaf_fields(entry: StaffAccess) -> dict[str, Any]:
    """The entry's fields as its leaf holds them (services.access_log_audit.LEAF_FIELDS)."""
    return {
        "at": entry.at.astimezone(UTC).isoformat(),
        "staff_id": entry.staff_id,
        "department": entry.department,
        "address_number": entry.address_number,
        "procedure_code": entry.procedure_code,
        "item_codes": None if entry.item_codes is None else list(entry.item_codes),
        "provider_code": entry.provider_code,
        "purpose": entry.purpose,
        "outcome": entry.outcome,
    }


def logged_entry(entry: StaffAccess) -> dict[str, Any]:
    """The entry as an auditor downloads it: leaf fields and its part of the tree."""
    return {
        **leaf_fields(entry),
        "erased_by": entry.erased_by,
        "seq": entry.seq,
        "leaf_index": entry.leaf_index,
        "leaf_hash": b64(bytes.fromhex(entry.leaf_hash)),
        "frontier": b64(entry.frontier),
    }


async def log_staff_access(database: Database, facts: AccessFacts, outcome: str) -> None:
    await log_staff_accesses(database, [(facts, outcome)])


async def log_staff_accesses(database: Database, accesses: Sequence[tuple[AccessFacts, str]]) -> None:
    """Append each (facts, outcome) as the log's next leaf, all in one transaction."""
    if not accesses:
        return
    at = utc_now().replace(microsecond=0)

    async def add_next(session: AsyncSession) -> None:
        index, frontier = await TREE.end(session)
        for facts, outcome in accesses:
            entry = StaffAccess(
                at=at,
                staff_id=facts.staff_id,
                department=facts.department,
                address_number=facts.address_number,
                procedure_code=facts.procedure_code,
                item_codes=list(facts.item_codes),
                provider_code=facts.provider_code,
                purpose=facts.purpose,
                outcome=outcome,
                leaf_index=index,
            )
            place_leaf(entry, access_leaf_hash(leaf_fields(entry)), frontier)
            session.add(entry)
            index, frontier = index + 1, entry.frontier

    await append_in_order(database, add_next, log="staff access log")


async def entries_between(session: AsyncSession, start: int, end: int) -> list[dict[str, Any]]:
    """Leaves [start, end) as logged."""
    rows = await session.scalars(
        select(StaffAccess)
        .where(StaffAccess.leaf_index >= start, StaffAccess.leaf_index < end)
        .order_by(StaffAccess.leaf_index)
    )
    return [logged_entry(row) for row in rows]


async def read_access_log(database: Database, limit: int) -> tuple[list[StaffAccess], bool, int | None]:
    """The newest `limit` entries, whether the whole log is as logged and extends every head this
    server signed, and the `seq` of the first entry that is not (or that a rewrite may have begun
    at): the number operators see on each entry. Rows are read in leaf order, so a deleted row
    shows as the gap it leaves; deleted last rows show against the heads, with no entry to name."""
    async with database.sessions() as session:
        entries = (await session.scalars(select(StaffAccess).order_by(StaffAccess.leaf_index))).all()
        heads = (await session.scalars(select(SignedAccessLogHead))).all()
    logged = [logged_entry(entry) for entry in entries]
    bad = first_bad_entry(logged) or first_departure(
        [entry_leaf(entry) for entry in logged],
        [TreeHead(head.tree_size, head.timestamp, head.root_hash) for head in heads],
    )
    if bad is None:
        return list(entries[-limit:]), True, None
    return list(entries[-limit:]), False, entries[bad[0]].seq if bad[0] < len(entries) else None
