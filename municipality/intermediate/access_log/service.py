"""Logging every staff read of personal data, refused or not (DOMAIN rule 5).

Entries are appended in their own transaction so that a refused read is logged too. Each
entry's `previous_hash` is unique, so two concurrent appends cannot fork the chain: the loser
retries on the new head.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.access_log.models import StaffAccess
from services.audit import GENESIS, chain_hash, first_broken_link
from services.db import Database, append_in_order, utc_now


@dataclass(frozen=True)
class AccessFacts:
    staff_id: str
    department: str
    address_number: str
    procedure_code: str
    item_codes: Sequence[str]
    provider_code: str


def _chained_fields(at: datetime, facts: AccessFacts | StaffAccess, outcome: str) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "staff_id": facts.staff_id,
        "department": facts.department,
        "address_number": facts.address_number,
        "procedure_code": facts.procedure_code,
        "item_codes": list(facts.item_codes),
        "provider_code": facts.provider_code,
        "outcome": outcome,
    }


async def log_staff_access(database: Database, facts: AccessFacts, outcome: str) -> None:
    async def add_next(session: AsyncSession) -> None:
        head = await session.scalar(select(StaffAccess.entry_hash).order_by(StaffAccess.seq.desc()).limit(1))
        previous = head or GENESIS
        at = utc_now().replace(microsecond=0)
        session.add(
            StaffAccess(
                at=at,
                staff_id=facts.staff_id,
                department=facts.department,
                address_number=facts.address_number,
                procedure_code=facts.procedure_code,
                item_codes=list(facts.item_codes),
                provider_code=facts.provider_code,
                outcome=outcome,
                previous_hash=previous,
                entry_hash=chain_hash(previous, _chained_fields(at, facts, outcome)),
            )
        )

    await append_in_order(database, add_next, log="staff access log")


async def read_access_log(database: Database, limit: int) -> tuple[list[StaffAccess], int | None]:
    """The newest `limit` entries and the `seq` of the first entry whose link in the whole chain
    is broken: the number operators see on each entry (a position in the chain would not match
    it, since `seq` starts at 1 and may have gaps)."""
    async with database.sessions() as session:
        entries = (await session.scalars(select(StaffAccess).order_by(StaffAccess.seq))).all()
    broken = first_broken_link((e.previous_hash, e.entry_hash, _chained_fields(e.at, e, e.outcome)) for e in entries)
    return list(entries[-limit:]), None if broken is None else entries[broken].seq
