"""Relaying a notice (お知らせ, OSR) from a city to a resident's My Portal.

The broker translates the city's symbol into My Portal's for the same person (only it can, rule
2), forwards the sealed notice signed to My Portal's `/notices` and records the delivery. It
cannot open the notice and neither stores nor logs it (rule 3). A resident who has never logged in
to My Portal has no portal symbol yet: the broker issues it now, the one the first login will
obtain, so the notice waits there and the city learns nothing of who uses My Portal.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from broker.notices.models import NoticeDelivery
from broker.notices.schemas import NoticeDelivered, NoticeIn
from broker.registry.models import Component, Institution
from broker.symbols.service import derive_symbol, epoch_of, issued_symbol, translate_symbols
from services.app import Runtime
from services.db import utc_now
from services.problems import DomainError, NotFound, UpstreamError
from services.rbac import Caller


async def relay_notice(
    session: AsyncSession, runtime: Runtime, master_key: bytes, caller: Caller, notice: NoticeIn
) -> NoticeDelivered:
    person_serial: str | None = None
    try:
        portal = await session.scalar(select(Institution).where(Institution.kind == "portal"))
        endpoint = None if portal is None else await session.get(Component, f"{portal.code}.portal")
        if portal is None or endpoint is None:
            raise NotFound("portal_not_registered", "My Portal is not registered on the network.")
        [translation] = await translate_symbols(session, caller.institution_code, [notice.sender_symbol], portal.code)
        person_serial = translation.person_serial
        if person_serial is None:
            raise NotFound("unknown_symbol", "The sender's symbol is not known to the network.")
        if translation.refusal is not None:
            raise translation.refusal
        portal_symbol = translation.provider_symbol or await _portal_symbol(runtime, master_key, portal, person_serial)
        await runtime.client.call(
            "POST",
            f"{endpoint.base_url}/notices",
            {
                "notice_id": notice.notice_id,
                "portal_symbol": portal_symbol,
                "sender_code": caller.institution_code,
                "ciphertext": notice.ciphertext,
            },
            upstream=portal.name,
        )
    except DomainError as error:
        outcome = "failed" if isinstance(error, UpstreamError) else "refused"
        await _record(runtime, caller, notice, person_serial, outcome, error.code)
        raise
    delivered = await _record(runtime, caller, notice, person_serial, "delivered", "delivered")
    return NoticeDelivered(notice_id=notice.notice_id, delivered_at=delivered.at)


async def _portal_symbol(runtime: Runtime, master_key: bytes, portal: Institution, person_serial: str) -> str:
    """My Portal's symbol for a resident who has none yet, issued in a transaction of its own and
    committed before the portal is called (the delivery record's own transaction would otherwise
    wait for it on SQLite). Issued at the same moment for another notice or the first login, it is
    the same symbol: derivation is deterministic."""
    async with runtime.database.sessions() as session:
        epoch = (await epoch_of(session, portal.code)).epoch
        try:
            symbol = await issued_symbol(session, master_key, portal.code, epoch, person_serial)
            await session.commit()
        except IntegrityError:
            return derive_symbol(master_key, portal.code, epoch, person_serial)
    return symbol


async def _record(
    runtime: Runtime, caller: Caller, notice: NoticeIn, person_serial: str | None, outcome: str, outcome_code: str
) -> NoticeDelivery:
    """In a transaction of its own, so that a refusal is recorded although the request fails."""
    record = NoticeDelivery(
        notice_id=notice.notice_id,
        sender_code=caller.institution_code,
        person_serial=person_serial,
        at=utc_now(),
        outcome=outcome,
        outcome_code=outcome_code,
    )
    async with runtime.database.sessions() as session:
        session.add(record)
        await session.commit()
    return record
