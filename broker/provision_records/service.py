"""Writing and reading provision records. A record is committed on its own, so a refused
or failed query is recorded even though the request that caused it fails."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.provision_records.models import ProvisionRecord
from broker.provision_records.schemas import NamedCode, PersonalRecordOut, ProvisionRecordOut
from broker.provision_records.tree import log_end, place_leaf
from broker.registry.models import Institution
from broker.symbols.service import person_for_symbol
from broker.whitelist.service import Whitelist
from services.db import Database, append_in_order, utc_now


@dataclass(frozen=True)
class QueryFacts:
    """What is known of a query when its outcome is decided."""

    query_id: str
    requester_code: str
    provider_code: str
    procedure_code: str
    item_codes: list[str]
    whitelist_version: str
    whitelist_row: str | None = None
    person_serial: str | None = None
    provider_symbol: str | None = None
    started: float = field(default_factory=time.perf_counter)  # when the query arrived


async def record_provision(database: Database, facts: QueryFacts, outcome: str, outcome_code: str) -> None:
    await record_provisions(database, [(facts, outcome, outcome_code)])


async def record_provisions(database: Database, outcomes: Sequence[tuple[QueryFacts, str, str]]) -> None:
    """Write each (facts, outcome, outcome code) as the log's next leaf, with its part of the tree
    (see `tree`), all in one transaction: a batch query's persons cost one commit, not one each.
    `leaf_index` is unique, so of two concurrent writers that read the same last row one fails to
    commit and retries on the new one; the indexes stay dense and in commit order on SQLite and
    PostgreSQL alike."""
    requested_at = utc_now()
    now = time.perf_counter()
    prepared = [
        (facts, outcome, code, round((now - facts.started) * 1000), secrets.token_bytes(32).hex())
        for facts, outcome, code in outcomes
    ]

    async def add_next(session: AsyncSession) -> None:
        index, frontier = await log_end(session)
        for facts, outcome, outcome_code, latency_ms, subject_salt in prepared:
            record = ProvisionRecord(
                query_id=facts.query_id,
                requested_at=requested_at,
                requester_code=facts.requester_code,
                provider_code=facts.provider_code,
                procedure_code=facts.procedure_code,
                item_codes=facts.item_codes,
                provider_symbol=facts.provider_symbol,
                person_serial=facts.person_serial,
                subject_salt=subject_salt,
                whitelist_version=facts.whitelist_version,
                whitelist_row=facts.whitelist_row,
                outcome=outcome,
                outcome_code=outcome_code,
                latency_ms=latency_ms,
                leaf_index=index,
            )
            place_leaf(record, frontier)
            session.add(record)
            index, frontier = index + 1, record.frontier

    if prepared:
        await append_in_order(database, add_next, log="provision log")


async def list_provision_records(session: AsyncSession, limit: int) -> list[ProvisionRecordOut]:
    rows = await session.scalars(select(ProvisionRecord).order_by(ProvisionRecord.requested_at.desc()).limit(limit))
    return [ProvisionRecordOut.model_validate(row, from_attributes=True) for row in rows]


async def records_for_person(
    session: AsyncSession, whitelist: Whitelist, institution_code: str, symbol: str
) -> list[PersonalRecordOut]:
    """Every record about the person behind `institution_code`'s `symbol` (for My Portal)."""
    serial = await person_for_symbol(session, institution_code, symbol)
    if serial is None:
        return []
    rows = (
        await session.scalars(
            select(ProvisionRecord)
            .where(ProvisionRecord.person_serial == serial)
            .order_by(ProvisionRecord.requested_at.desc())
        )
    ).all()
    institutions: dict[str, str] = dict((await session.execute(select(Institution.code, Institution.name))).all())
    procedures, items = dict(whitelist.procedures), dict(whitelist.items)

    def named(code: str, names: dict[str, str]) -> NamedCode:
        return NamedCode(code=code, name=names.get(code, code))

    return [
        PersonalRecordOut(
            query_id=row.query_id,
            requested_at=row.requested_at,
            requester=named(row.requester_code, institutions),
            provider=named(row.provider_code, institutions),
            procedure=named(row.procedure_code, procedures),
            items=[named(code, items) for code in row.item_codes],
            outcome=row.outcome,
            outcome_code=row.outcome_code,
            leaf_index=row.leaf_index,
        )
        for row in rows
    ]
