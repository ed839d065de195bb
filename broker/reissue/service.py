"""Reissuing an institution's symbols after a leak (符号の再発行).

The institution applies first: its intermediate server sends an application its section chief
approved (符号の再発行申請). One administrator declares the leak naming that application, a
second confirms it, or either withdraws it unconfirmed (nothing has changed by then, so the
application may be declared on again). From the confirmation the
institution is `reissuing` (broker.symbols refuses queries to and from it with 409, never a
wrong answer), and a job runs in phases, each committed before the next starts, so an
interrupted run resumes where it stopped and nothing is half-switched:

1. deriving: every person the institution holds gets a symbol of the next epoch (bulk insert);
2. delivering: the old → new pairs go to the institution's intermediate server in signed
   batches, which it stages, then a commit that makes it replace all its symbols at once;
3. switching: the broker moves the institution to the new epoch; old symbols now answer
   `symbol_revoked`. Provision records name persons by serial, so they stay attached.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from broker.admins.models import Administrator
from broker.registry.models import Component, Institution
from broker.reissue.models import ReissueApplication, SymbolReissue
from broker.reissue.schemas import LeakDeclaration, ReissueApplicationIn, ReissueApplicationOut, ReissueOut
from broker.symbols.models import InstitutionSymbol, SymbolEpoch
from broker.symbols.service import derive_symbols, epoch_of
from services.app import Runtime
from services.db import bulk_insert, utc_now
from services.problems import Conflict, DomainError, Forbidden, NotFound
from services.rbac import Caller

ENDED = ("completed", "cancelled")  # a reissue in any other status keeps its institution from another
BATCH_SIZE = 10_000
LEASE = timedelta(seconds=60)  # renewed with every batch; a batch takes well under a second
logger = logging.getLogger(__name__)


def reissue_out(reissue: SymbolReissue) -> ReissueOut:
    return ReissueOut.model_validate(reissue, from_attributes=True)


async def _intermediate_of(session: AsyncSession, institution_code: str) -> Component:
    component = await session.get(Component, f"{institution_code}.intermediate")
    if component is None:
        raise Conflict(
            "no_intermediate_server", f"{institution_code} has no intermediate server to deliver new symbols to."
        )
    return component


async def receive_application(
    session: AsyncSession, caller: Caller, application: ReissueApplicationIn
) -> ReissueApplicationOut:
    """Keep an institution's approved application until an administrator declares on it. The
    city names it, so an application sent again (its answer lost) is the same one, not a second."""
    held = await session.get(ReissueApplication, application.application_id)
    if held is not None:
        if held.institution_code != caller.institution_code:
            raise Conflict("reissue_application_exists", f"Application {held.application_id} is another's.")
        return ReissueApplicationOut.model_validate(held)
    received = ReissueApplication(
        application_id=application.application_id,
        institution_code=caller.institution_code,
        incident=application.incident,
        applied_by=application.applied_by,
        approved_by=application.approved_by,
        received_at=utc_now(),
    )
    session.add(received)
    await session.flush()
    logger.info("symbol reissue application %s received from %s", received.application_id, caller.institution_code)
    return ReissueApplicationOut.model_validate(received)


async def list_applications(session: AsyncSession) -> list[ReissueApplicationOut]:
    rows = await session.scalars(select(ReissueApplication).order_by(ReissueApplication.received_at.desc()))
    return [ReissueApplicationOut.model_validate(row) for row in rows]


async def _take_application(session: AsyncSession, declaration: LeakDeclaration, reissue_id: str) -> None:
    """Mark the named application used by this reissue, in one conditional update, so that two
    declarations on one application cannot both succeed."""
    taken = await session.execute(
        update(ReissueApplication)
        .where(
            ReissueApplication.application_id == declaration.application_id,
            ReissueApplication.institution_code == declaration.institution_code,
            ReissueApplication.reissue_id.is_(None),
        )
        .values(reissue_id=reissue_id)
    )
    if int(taken.rowcount) == 1:  # type: ignore[attr-defined]  # DML results carry a rowcount
        return
    application = await session.get(ReissueApplication, declaration.application_id)
    if application is None:
        raise NotFound(
            "unknown_reissue_application",
            f"No reissue application {declaration.application_id}: the institution applies first, "
            "through its intermediate server, on its section chief's approval.",
        )
    if application.institution_code != declaration.institution_code:
        raise Conflict(
            "reissue_application_of_another_institution",
            f"Application {application.application_id} came from {application.institution_code}, "
            f"not {declaration.institution_code}.",
        )
    raise Conflict(
        "reissue_application_used",
        f"Application {application.application_id} was used by reissue {application.reissue_id}.",
    )


async def declare_leak(session: AsyncSession, declaration: LeakDeclaration, admin: Administrator) -> ReissueOut:
    code = declaration.institution_code
    if await session.get(Institution, code) is None:
        raise NotFound("unknown_institution", f"No institution {code} is registered.")
    await _intermediate_of(session, code)
    open_one = await session.scalar(
        select(SymbolReissue.reissue_id).where(
            SymbolReissue.institution_code == code, SymbolReissue.status.not_in(ENDED)
        )
    )
    if open_one is not None:
        raise Conflict("reissue_already_open", f"Reissue {open_one} of {code}'s symbols is not finished yet.")
    reissue_id = uuid.uuid4().hex
    await _take_application(session, declaration, reissue_id)
    epoch = (await epoch_of(session, code)).epoch
    reissue = SymbolReissue(
        reissue_id=reissue_id,
        institution_code=code,
        application_id=declaration.application_id,
        reason=declaration.reason,
        declared_by=admin.admin_id,
        declared_at=utc_now(),
        status="awaiting_confirmation",
        phase="deriving",
        from_epoch=epoch,
        to_epoch=epoch + 1,
        persons=0,
        delivered=0,
    )
    session.add(reissue)
    await session.flush()
    return reissue_out(reissue)


async def get_reissue(session: AsyncSession, reissue_id: str) -> SymbolReissue:
    reissue = await session.get(SymbolReissue, reissue_id)
    if reissue is None:
        raise NotFound("unknown_reissue", f"No symbol reissue {reissue_id}.")
    return reissue


async def list_reissues(session: AsyncSession) -> list[ReissueOut]:
    rows = await session.scalars(select(SymbolReissue).order_by(SymbolReissue.declared_at.desc()))
    return [reissue_out(row) for row in rows]


async def confirm_reissue(session: AsyncSession, reissue_id: str, admin: Administrator) -> ReissueOut:
    """The second administrator's confirmation: from now on the institution's symbols are frozen."""
    reissue = await get_reissue(session, reissue_id)
    if reissue.status != "awaiting_confirmation":
        raise Conflict("reissue_not_awaiting_confirmation", f"Reissue {reissue_id} is {reissue.status}.")
    if reissue.declared_by == admin.admin_id:
        raise Forbidden(
            "confirmation_by_declarer", "A second administrator must confirm; the one who declared the leak cannot."
        )
    state = await epoch_of(session, reissue.institution_code)
    await _leave_awaiting_confirmation(
        session,
        reissue,
        confirmed_by=admin.admin_id,
        confirmed_at=utc_now(),
        status="running",
        from_epoch=state.epoch,
        to_epoch=state.epoch + 1,
    )
    await session.merge(
        SymbolEpoch(institution_code=reissue.institution_code, epoch=state.epoch, reissuing=True, changed_at=utc_now())
    )
    await session.flush()
    return reissue_out(reissue)


async def cancel_reissue(session: AsyncSession, reissue_id: str, admin: Administrator) -> ReissueOut:
    """Withdraw a declaration nobody has confirmed (a mistake, or one the second administrator will
    not confirm). Nothing was frozen or derived yet; the institution may be declared on again, on
    the same application, which this gives back."""
    reissue = await get_reissue(session, reissue_id)
    if reissue.status != "awaiting_confirmation":
        raise Conflict("reissue_not_awaiting_confirmation", f"Reissue {reissue_id} is {reissue.status}.")
    await _leave_awaiting_confirmation(
        session, reissue, cancelled_by=admin.admin_id, cancelled_at=utc_now(), status="cancelled"
    )
    await session.execute(
        update(ReissueApplication).where(ReissueApplication.reissue_id == reissue_id).values(reissue_id=None)
    )
    logger.info("reissue %s of %s cancelled by %s", reissue_id, reissue.institution_code, admin.admin_id)
    return reissue_out(reissue)


async def _leave_awaiting_confirmation(session: AsyncSession, reissue: SymbolReissue, **values: object) -> None:
    """One conditional update, so that a confirmation and a cancellation sent at once cannot both
    take effect: the second finds the reissue no longer awaiting confirmation."""
    result = await session.execute(
        update(SymbolReissue)
        .where(SymbolReissue.reissue_id == reissue.reissue_id, SymbolReissue.status == "awaiting_confirmation")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]  # DML results carry a rowcount
        raise Conflict("reissue_not_awaiting_confirmation", f"Reissue {reissue.reissue_id} was decided just now.")
    await session.refresh(reissue)


async def resume_reissue(session: AsyncSession, reissue_id: str, admin: Administrator) -> ReissueOut:
    reissue = await get_reissue(session, reissue_id)
    if reissue.status != "failed":
        raise Conflict("reissue_not_failed", f"Reissue {reissue_id} is {reissue.status}; only a failed one resumes.")
    logger.info("reissue %s resumed by %s at phase %s", reissue_id, admin.admin_id, reissue.phase)
    reissue.status, reissue.error = "running", None
    await session.flush()
    return reissue_out(reissue)


async def _derive_next_epoch(session: AsyncSession, reissue: SymbolReissue, master_key: bytes) -> None:
    code, old, new = reissue.institution_code, reissue.from_epoch, reissue.to_epoch
    serials = list(
        await session.scalars(
            select(InstitutionSymbol.person_serial).where(
                InstitutionSymbol.institution_code == code, InstitutionSymbol.epoch == old
            )
        )
    )
    # A rerun after an interruption starts this phase over.
    await session.execute(
        delete(InstitutionSymbol).where(InstitutionSymbol.institution_code == code, InstitutionSymbol.epoch == new)
    )
    symbols = await asyncio.to_thread(derive_symbols, master_key, code, new, serials)
    now = utc_now()
    await bulk_insert(
        session,
        InstitutionSymbol,
        [(code, symbol, serial, new, now) for symbol, serial in zip(symbols, serials, strict=True)],
    )
    reissue.persons, reissue.phase = len(serials), "delivering"


async def claim_reissue(session: AsyncSession, reissue_id: str, owner: str, now: datetime) -> bool:
    """Take (or renew) the lease on a running reissue: true for the one replica that holds it, so
    two brokers never run one reissue at once; a lease left by a stopped replica expires."""
    claimed = await session.execute(
        update(SymbolReissue)
        .where(
            SymbolReissue.reissue_id == reissue_id,
            SymbolReissue.status == "running",
            or_(
                SymbolReissue.lease_until.is_(None),
                SymbolReissue.lease_until < now,
                SymbolReissue.lease_owner == owner,
            ),
        )
        .values(lease_owner=owner, lease_until=now + LEASE)
    )
    return int(claimed.rowcount) == 1  # type: ignore[attr-defined]  # DML results carry a rowcount


async def _deliver(runtime: Runtime, reissue_id: str, owner: str) -> None:
    """Old → new pairs in batches ordered by person serial, then the intermediate's commit."""
    old_row, new_row = aliased(InstitutionSymbol), aliased(InstitutionSymbol)
    async with runtime.database.sessions() as session:
        reissue = await get_reissue(session, reissue_id)
        code, persons, application_id = reissue.institution_code, reissue.persons, reissue.application_id
        base_url = (await _intermediate_of(session, code)).base_url
        reissue.delivered = 0
        await session.commit()
    endpoint = f"{base_url}/symbol-reissues/{reissue_id}"
    batches, after, batch_no = max(1, math.ceil(persons / BATCH_SIZE)), "", 0
    while True:
        async with runtime.database.sessions() as session:
            pairs = (
                await session.execute(
                    select(old_row.symbol, new_row.symbol, old_row.person_serial)
                    .join(
                        new_row,
                        and_(
                            new_row.institution_code == old_row.institution_code,
                            new_row.person_serial == old_row.person_serial,
                            new_row.epoch == reissue.to_epoch,
                        ),
                    )
                    .where(
                        old_row.institution_code == code,
                        old_row.epoch == reissue.from_epoch,
                        old_row.person_serial > after,
                    )
                    .order_by(old_row.person_serial)
                    .limit(BATCH_SIZE)
                )
            ).all()
        if not pairs and batch_no > 0:
            break
        await runtime.client.call(
            "POST",
            f"{endpoint}/batches/{batch_no}",
            {"batches": batches, "mappings": [{"old_symbol": old, "new_symbol": new} for old, new, _ in pairs]},
            upstream=f"{code} intermediate server",
        )
        batch_no += 1
        async with runtime.database.sessions() as session:
            if not await claim_reissue(session, reissue_id, owner, utc_now()):
                raise RuntimeError(f"lost the lease on reissue {reissue_id} to another broker replica")
            await session.execute(
                update(SymbolReissue)
                .where(SymbolReissue.reissue_id == reissue_id)
                .values(delivered=SymbolReissue.delivered + len(pairs))
            )
            await session.commit()
        if len(pairs) < BATCH_SIZE:
            break
        after = pairs[-1][2]
    await runtime.client.call(
        "POST",
        f"{endpoint}/commit",
        {"batches": batch_no, "mappings": persons, "application_id": application_id},
        upstream=f"{code} intermediate server",
    )


async def _switch_epoch(session: AsyncSession, reissue: SymbolReissue) -> None:
    await session.merge(
        SymbolEpoch(
            institution_code=reissue.institution_code, epoch=reissue.to_epoch, reissuing=False, changed_at=utc_now()
        )
    )
    reissue.phase, reissue.status, reissue.finished_at = "done", "completed", utc_now()
    reissue.lease_owner, reissue.lease_until = None, None


async def run_reissue(runtime: Runtime, master_key: bytes, reissue_id: str, owner: str) -> None:
    """Run (or resume) a confirmed reissue to its end, unless another replica holds its lease;
    a failure is stored, never raised."""
    async with runtime.database.sessions() as session:
        claimed = await claim_reissue(session, reissue_id, owner, utc_now())
        await session.commit()
    if not claimed:
        return
    try:
        async with runtime.database.sessions() as session:
            reissue = await get_reissue(session, reissue_id)
            if reissue.phase == "deriving":
                await _derive_next_epoch(session, reissue, master_key)
                await session.commit()
            phase = reissue.phase
        if phase == "delivering":
            await _deliver(runtime, reissue_id, owner)
            async with runtime.database.sessions() as session:
                (await get_reissue(session, reissue_id)).phase = "switching"
                await session.commit()
        async with runtime.database.sessions() as session:
            reissue = await get_reissue(session, reissue_id)
            if reissue.phase == "switching":
                await _switch_epoch(session, reissue)
                await session.commit()
    except Exception as error:  # whatever stopped it (an upstream refusal, the database), it is stored
        logger.warning("symbol reissue %s failed: %s", reissue_id, error)
        async with runtime.database.sessions() as session:
            reissue = await get_reissue(session, reissue_id)
            reissue.status, reissue.lease_owner, reissue.lease_until = "failed", None, None
            code = error.code if isinstance(error, DomainError) else type(error).__name__
            reissue.error = f"{code}: {error}"
            await session.commit()


async def running_reissues(session: AsyncSession, now: datetime) -> list[str]:
    """Running reissues nobody holds a lease on: a stopped replica's, to be taken over."""
    return list(
        await session.scalars(
            select(SymbolReissue.reissue_id).where(
                SymbolReissue.status == "running",
                or_(SymbolReissue.lease_until.is_(None), SymbolReissue.lease_until < now),
            )
        )
    )


class ReissueJobs:
    """The reissue jobs this broker replica runs in the background (progress is in the table).

    Every `watch_seconds` it takes over running reissues whose lease has expired, so a reissue
    survives the replica running it stopping, here or on another replica."""

    def __init__(self, runtime: Runtime, master_key: bytes, watch_seconds: float = 30.0) -> None:
        self.runtime, self.master_key, self.watch_seconds = runtime, master_key, watch_seconds
        self.owner = uuid.uuid4().hex
        self.tasks: set[asyncio.Task[None]] = set()
        self.running: set[str] = set()  # reissue ids with a job in this replica

    def start(self, reissue_id: str) -> None:
        if reissue_id in self.running:
            return
        self.running.add(reissue_id)
        task = asyncio.create_task(run_reissue(self.runtime, self.master_key, reissue_id, self.owner))
        self.tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self.tasks.discard(finished)
            self.running.discard(reissue_id)

        task.add_done_callback(done)

    async def take_over_abandoned(self) -> None:
        async with self.runtime.database.sessions() as session:
            for reissue_id in await running_reissues(session, utc_now()):
                self.start(reissue_id)

    def watch(self) -> None:
        async def loop() -> None:
            while True:
                await self.take_over_abandoned()
                await asyncio.sleep(self.watch_seconds)

        task = asyncio.create_task(loop())
        self.tasks.add(task)

    async def stop(self) -> None:
        """Cancel what runs; each job's phase is committed, so it resumes once its lease expires."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
