"""Obtaining the city's symbols (符号取得) at the broker with acquisition numbers from J-LIS;
applying for a reissue after a leak on the section chief's approval (符号の再発行申請); and
switching to the new symbols when the broker delivers them, only for a reissue the city applied for."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.approvals.service import consume_approval
from municipality.intermediate.symbols.models import (
    AppliedReissue,
    ReissueApplicationSent,
    StagedSymbolChange,
    SymbolLink,
)
from municipality.intermediate.symbols.schemas import (
    ReissueApplicationOut,
    ReissueApplied,
    ReissueBatch,
    ReissueCommit,
    SymbolLinkIn,
)
from services.db import bulk_insert, utc_now
from services.http import ServiceClient
from services.problems import Conflict


async def obtain_symbols(
    session: AsyncSession, client: ServiceClient, broker_url: str, links: Sequence[SymbolLinkIn]
) -> int:
    answer = await client.call(
        "POST",
        f"{broker_url}/symbols",
        {"acquisition_numbers": [link.acquisition_number for link in links]},
        upstream="broker",
    )
    now = utc_now()
    for link, symbol in zip(links, answer["symbols"], strict=True):
        await session.merge(SymbolLink(address_number=link.address_number, symbol=symbol, obtained_at=now))
    await session.flush()
    return len(links)


async def symbol_for_address(session: AsyncSession, address_number: str) -> str | None:
    link = await session.get(SymbolLink, address_number)
    return link.symbol if link else None


async def address_for_symbol(session: AsyncSession, symbol: str) -> str | None:
    return await session.scalar(select(SymbolLink.address_number).where(SymbolLink.symbol == symbol))


async def apply_for_reissue(
    session: AsyncSession, client: ServiceClient, broker_url: str, approval_id: int, requested_by: str | None
) -> ReissueApplicationOut:
    """Use the approved `symbol_reissue_application` and send the application to the broker; if
    that fails, the approval stays unused (the transaction rolls back). The application's id comes
    from the approval, so a retry after a lost answer sends the same application, which the broker
    takes once: it never holds an application this city has no record of after the retry."""
    approval = await consume_approval(session, approval_id, "symbol_reissue_application", requested_by)
    incident, approved_by = str(approval.details["incident"]), approval.decided_by or ""
    application_id = hashlib.sha256(f"{approval.id}:{approval.requested_at.isoformat()}".encode()).hexdigest()[:32]
    await client.call(
        "POST",
        f"{broker_url}/symbol-reissue-applications",
        {
            "application_id": application_id,
            "incident": incident,
            "applied_by": approval.requested_by,
            "approved_by": approved_by,
        },
        upstream="broker",
    )
    sent = ReissueApplicationSent(
        application_id=application_id,
        approval_id=approval.id,
        incident=incident,
        applied_by=approval.requested_by,
        approved_by=approved_by,
        sent_at=utc_now(),
    )
    session.add(sent)
    await session.flush()
    return ReissueApplicationOut.model_validate(sent)


async def sent_applications(session: AsyncSession) -> list[ReissueApplicationOut]:
    rows = await session.scalars(select(ReissueApplicationSent).order_by(ReissueApplicationSent.sent_at.desc()))
    return [ReissueApplicationOut.model_validate(row) for row in rows]


async def _claim_application(session: AsyncSession, reissue_id: str, application_id: str) -> None:
    """Tie the reissue to the city's own unused application, or refuse to switch anything."""
    claimed = await session.execute(
        update(ReissueApplicationSent)
        .where(ReissueApplicationSent.application_id == application_id, ReissueApplicationSent.reissue_id.is_(None))
        .values(reissue_id=reissue_id)
    )
    if int(claimed.rowcount) != 1:  # type: ignore[attr-defined]  # DML results carry a rowcount
        raise Conflict(
            "reissue_not_applied_for",
            f"Reissue {reissue_id} names application {application_id}, which this city did not send "
            "or has used already: symbols change here only on the city's own approved application.",
        )


async def _applied(session: AsyncSession, reissue_id: str) -> ReissueApplied | None:
    applied = await session.get(AppliedReissue, reissue_id)
    if applied is None:
        return None
    return ReissueApplied(reissue_id=reissue_id, replaced=applied.replaced, unmapped=applied.unmapped)


async def stage_reissue_batch(session: AsyncSession, reissue_id: str, batch_no: int, batch: ReissueBatch) -> int:
    """Hold one batch of old → new pairs; a batch sent again replaces itself."""
    if await _applied(session, reissue_id) is not None:
        raise Conflict("reissue_already_applied", f"Reissue {reissue_id} is already in force here.")
    olds = [change.old_symbol for change in batch.mappings]
    if len(set(olds)) != len(olds):
        raise Conflict("duplicate_symbol_change", "A batch names the same old symbol twice.")
    await session.execute(
        delete(StagedSymbolChange).where(
            StagedSymbolChange.reissue_id == reissue_id, StagedSymbolChange.batch_no == batch_no
        )
    )
    try:
        await bulk_insert(
            session,
            StagedSymbolChange,
            [(reissue_id, change.old_symbol, change.new_symbol, batch_no) for change in batch.mappings],
        )
    except IntegrityError as error:
        raise Conflict("duplicate_symbol_change", "An old symbol of this batch came in another batch.") from error
    return len(olds)


async def apply_reissue(session: AsyncSession, reissue_id: str, commit: ReissueCommit) -> ReissueApplied:
    """Replace every symbol the broker sent a new one for, in this one transaction."""
    applied = await _applied(session, reissue_id)
    if applied is not None:
        return applied
    await _claim_application(session, reissue_id, commit.application_id)
    staged = StagedSymbolChange.reissue_id == reissue_id
    batches, pairs = (
        await session.execute(
            select(func.count(func.distinct(StagedSymbolChange.batch_no)), func.count()).where(staged)
        )
    ).one()
    expected_batches = commit.batches if commit.mappings else 0  # an empty batch stages no rows
    if (batches, pairs) != (expected_batches, commit.mappings):
        raise Conflict(
            "reissue_incomplete",
            f"Reissue {reissue_id}: {batches} of {commit.batches} batches, {pairs} of {commit.mappings} pairs arrived.",
        )
    new_symbol = (
        select(StagedSymbolChange.new_symbol)
        .where(staged, StagedSymbolChange.old_symbol == SymbolLink.symbol)
        .scalar_subquery()
    )
    result = await session.execute(
        update(SymbolLink)
        .where(SymbolLink.symbol.in_(select(StagedSymbolChange.old_symbol).where(staged)))
        .values(symbol=new_symbol, obtained_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    replaced = int(result.rowcount)  # type: ignore[attr-defined]  # DML results carry a rowcount
    links = int(await session.scalar(select(func.count()).select_from(SymbolLink)) or 0)
    await session.execute(delete(StagedSymbolChange).where(staged))
    session.add(
        AppliedReissue(reissue_id=reissue_id, replaced=replaced, unmapped=links - replaced, applied_at=utc_now())
    )
    await session.flush()
    return ReissueApplied(reissue_id=reissue_id, replaced=replaced, unmapped=links - replaced)
