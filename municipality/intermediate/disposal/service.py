"""SYM 廃棄: copies and their history are removed once the retention data (retention.yaml) says
they have expired, only on an approved `disposal` approval, and every run leaves a record of what
went, how much, when and on whose approval.

The staff access log has a retention of its own and is never touched before it ends. After it,
an entry is erased rather than deleted: what it says about a resident (address number, items,
purpose) goes, its time, staff member, procedure and outcome stay, and so does its leaf hash,
because removing leaves of the log's Merkle tree would break its proofs against the heads anchored
at the broker (services.access_log_audit takes an erased entry's stored hash). Only a prefix of
the log is erased: the entries before the first one still within retention, so an auditor can tell
a disposal from an attempt to hide one entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from municipality.intermediate.access_log.models import StaffAccess
from municipality.intermediate.access_log.service import TREE
from municipality.intermediate.approvals.service import consume_approval
from municipality.intermediate.copies.catalogue import ItemCatalogue
from municipality.intermediate.copies.models import Copy, CopyRevision
from municipality.intermediate.disposal.models import DisposalRecord
from municipality.intermediate.disposal.schemas import (
    AccessLogRetention,
    DisposalPlanOut,
    DisposalRecordOut,
    DisposedItem,
)
from services.db import utc_now

RETENTION_FILE = Path(__file__).with_name("retention.yaml")
FROM_CATALOGUE = "catalogue"
DELETE_CHUNK = 500


class RetentionError(ValueError):
    """retention.yaml does not cover the catalogue exactly, or says something impossible."""


@dataclass(frozen=True)
class ItemRetention:
    years: int | None  # None: the catalogue's tax_years_kept
    keep_latest: bool = False


@dataclass(frozen=True)
class Retention:
    items: dict[str, ItemRetention]
    revision_years: int
    access_log_years: int

    def expired_before(self, catalogue: ItemCatalogue, item_code: str, today: date) -> str:
        """The first period still kept: every period sorting before it has expired."""
        item = catalogue.items[item_code]
        years = self.items[item_code].years
        if item.period == "tax_year":
            return str(today.year - (catalogue.tax_years_kept if years is None else years))
        cutoff = years_before(today, years or 0)
        # A month ends before the cutoff exactly when it is an earlier month than the cutoff's.
        return cutoff.strftime("%Y-%m") if item.period == "month" else cutoff.isoformat()


Day = TypeVar("Day", date, datetime)


def years_before(day: Day, years: int) -> Day:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def load_retention(catalogue: ItemCatalogue, path: Path = RETENTION_FILE) -> Retention:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries: dict[str, Any] = raw["items"]
    if set(entries) != set(catalogue.items):
        missing, unknown = set(catalogue.items) - set(entries), set(entries) - set(catalogue.items)
        raise RetentionError(
            f"retention must name every catalogue item: missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    items: dict[str, ItemRetention] = {}
    for code, entry in entries.items():
        years = entry["years"]
        if years == FROM_CATALOGUE:
            if catalogue.items[code].period != "tax_year":
                raise RetentionError(f"{code}: only tax-year items keep the catalogue's tax years")
            items[code] = ItemRetention(None, bool(entry.get("keep_latest", False)))
        elif isinstance(years, int) and years >= 1:
            items[code] = ItemRetention(years, bool(entry.get("keep_latest", False)))
        else:
            raise RetentionError(f"{code}: years is a whole number of years (at least 1) or {FROM_CATALOGUE!r}")
    return Retention(items, int(raw["copy_revisions"]["years"]), int(raw["access_log"]["years"]))


@dataclass(frozen=True)
class _Expired:
    line: DisposedItem
    copy_ids: list[int]
    revision_ids: list[int]


async def _expired(
    session: AsyncSession, catalogue: ItemCatalogue, retention: Retention, today: date, now: datetime
) -> list[_Expired]:
    revisions_cutoff = years_before(now, retention.revision_years)
    found: list[_Expired] = []
    for code in sorted(catalogue.items):
        bound = retention.expired_before(catalogue, code, today)
        keep_latest = retention.items[code].keep_latest
        conditions = [Copy.item_code == code, Copy.period < bound]
        if keep_latest:
            newer = aliased(Copy)
            conditions.append(
                exists().where(
                    newer.address_number == Copy.address_number,
                    newer.item_code == Copy.item_code,
                    newer.period > Copy.period,
                )
            )
        copies = (await session.execute(select(Copy.id, Copy.period).where(*conditions))).all()
        aged = CopyRevision.replaced_at < revisions_cutoff
        revision_expired = aged if keep_latest else or_(aged, CopyRevision.period < bound)
        revision_ids = list(
            (
                await session.scalars(select(CopyRevision.id).where(CopyRevision.item_code == code, revision_expired))
            ).all()
        )
        if copies or revision_ids:
            line = DisposedItem(
                item_code=code,
                expired_before=bound,
                periods=sorted({period for _id, period in copies}),
                copies=len(copies),
                revisions=len(revision_ids),
            )
            found.append(_Expired(line, [copy_id for copy_id, _period in copies], revision_ids))
    return found


async def _expired_log_prefix(session: AsyncSession, retention: Retention, now: datetime) -> int:
    """How many leading entries of the access log are past its retention: up to the first one that
    is not (entries are appended in time order, give or take a retried append's second)."""
    cutoff = years_before(now, retention.access_log_years)
    first_kept = await session.scalar(select(func.min(StaffAccess.leaf_index)).where(StaffAccess.at >= cutoff))
    if first_kept is None:
        return await TREE.size(session)
    return int(first_kept)


def _not_yet_erased(prefix: int) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return StaffAccess.leaf_index < prefix, StaffAccess.erased_by.is_(None)


async def _access_log_retention(session: AsyncSession, retention: Retention, now: datetime) -> AccessLogRetention:
    prefix = await _expired_log_prefix(session, retention, now)
    to_erase = await session.scalar(select(func.count()).select_from(StaffAccess).where(*_not_yet_erased(prefix)))
    return AccessLogRetention(retention_years=retention.access_log_years, entries_to_erase=to_erase or 0)


async def preview_disposal(
    session: AsyncSession, catalogue: ItemCatalogue, today: date | None = None
) -> DisposalPlanOut:
    """What a disposal run today would remove (for the approver to see before approving)."""
    retention = load_retention(catalogue)
    today, now = today or date.today(), utc_now()
    expired = await _expired(session, catalogue, retention, today, now)
    return DisposalPlanOut(
        today=today,
        items=[e.line for e in expired],
        copies=sum(e.line.copies for e in expired),
        revisions=sum(e.line.revisions for e in expired),
        access_log=await _access_log_retention(session, retention, now),
    )


async def dispose(
    session: AsyncSession, catalogue: ItemCatalogue, approval_id: int, run_by: str, requested_by: str | None
) -> DisposalRecordOut:
    """Use the approval, delete what has expired today, erase the access log entries past its
    retention, and record it; all in one transaction."""
    approval = await consume_approval(session, approval_id, "disposal", requested_by)
    retention = load_retention(catalogue)
    now = utc_now()
    expired = await _expired(session, catalogue, retention, date.today(), now)
    await _delete(session, Copy, [i for e in expired for i in e.copy_ids])
    await _delete(session, CopyRevision, [i for e in expired for i in e.revision_ids])
    record = DisposalRecord(
        disposed_at=now,
        approval_id=approval.id,
        requested_by=approval.requested_by,
        approved_by=approval.decided_by or "",
        run_by=run_by,
        items=[e.line.model_dump(mode="json") for e in expired],
        copies_deleted=sum(e.line.copies for e in expired),
        revisions_deleted=sum(e.line.revisions for e in expired),
        access_log_entries_erased=0,
    )
    session.add(record)
    await session.flush()
    prefix = await _expired_log_prefix(session, retention, now)
    erased = await session.execute(
        update(StaffAccess)
        .where(*_not_yet_erased(prefix))
        .values(address_number=None, item_codes=None, purpose=None, erased_by=record.id)
    )
    record.access_log_entries_erased = int(erased.rowcount)  # type: ignore[attr-defined]  # DML results carry a rowcount
    await session.flush()
    return record_out(record)


async def _delete(session: AsyncSession, model: type[Copy] | type[CopyRevision], ids: Sequence[int]) -> None:
    for start in range(0, len(ids), DELETE_CHUNK):
        await session.execute(delete(model).where(model.id.in_(ids[start : start + DELETE_CHUNK])))


async def disposal_records(session: AsyncSession, limit: int) -> list[DisposalRecordOut]:
    records = await session.scalars(select(DisposalRecord).order_by(DisposalRecord.id.desc()).limit(limit))
    return [record_out(r) for r in records]


def record_out(record: DisposalRecord) -> DisposalRecordOut:
    return DisposalRecordOut(
        disposal_id=record.id,
        disposed_at=record.disposed_at,
        approval_id=record.approval_id,
        requested_by=record.requested_by,
        approved_by=record.approved_by,
        run_by=record.run_by,
        items=[DisposedItem.model_validate(item) for item in record.items],
        copies_deleted=record.copies_deleted,
        revisions_deleted=record.revisions_deleted,
        access_log_entries_erased=record.access_log_entries_erased,
    )
