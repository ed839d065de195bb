"""OSR お知らせ: notices cities send residents, delivered by the broker under the portal's own
symbol for the resident and read by the resident in their session.

A notice is sealed by the city to My Portal's key, so the broker cannot read it. The portal opens
it once on receipt, to refuse what it could never show (not sealed to it, or naming another notice
or another sender than the broker vouches for), then keeps it sealed and opens it again only when
the resident reads it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nacl.exceptions import CryptoError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.notices.models import PortalNotice
from portal.notices.schemas import DeliveredNotice, NoticeOut, NoticeReceived, Sender
from services.app import Runtime
from services.db import utc_now
from services.keys import ServiceKeys
from services.problems import BadRequest, Conflict, NotFound
from services.sealing import open_sealed_json


async def receive_notice(session: AsyncSession, runtime: Runtime, notice: DeliveredNotice) -> NoticeReceived:
    _opened(runtime.keys, notice.notice_id, notice.sender_code, notice.ciphertext)
    received_at = utc_now()
    session.add(
        PortalNotice(
            notice_id=notice.notice_id,
            symbol=notice.portal_symbol,
            sender_code=notice.sender_code,
            ciphertext=notice.ciphertext,
            received_at=received_at,
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:  # delivered before, or by another broker replica a moment ago
        raise Conflict("notice_exists", "This notice was delivered already.") from exc
    return NoticeReceived(notice_id=notice.notice_id, received_at=received_at)


async def my_notices(session: AsyncSession, runtime: Runtime, symbol: str) -> list[NoticeOut]:
    rows = await session.scalars(
        select(PortalNotice).where(PortalNotice.symbol == symbol).order_by(PortalNotice.received_at.desc())
    )
    notices = []
    for row in rows:
        payload = _opened(runtime.keys, row.notice_id, row.sender_code, row.ciphertext)
        notices.append(
            NoticeOut(
                notice_id=row.notice_id,
                sender=Sender(code=row.sender_code, name=str(payload["city"]["name"])),
                title=str(payload["title"]),
                body=str(payload["body"]),
                sent_at=datetime.fromisoformat(payload["sent_at"]),
                received_at=row.received_at,
                read_at=row.read_at,
            )
        )
    return notices


async def mark_read(session: AsyncSession, symbol: str, notice_id: str) -> None:
    """The first reading counts; another resident's notice is unknown to this one."""
    notice = await session.get(PortalNotice, notice_id)
    if notice is None or notice.symbol != symbol:
        raise NotFound("unknown_notice", "You have no notice with this id.")
    await session.execute(
        update(PortalNotice)
        .where(PortalNotice.notice_id == notice_id, PortalNotice.read_at.is_(None))
        .values(read_at=utc_now())
    )


def _opened(keys: ServiceKeys, notice_id: str, sender_code: str, ciphertext: str) -> dict[str, Any]:
    try:
        payload = open_sealed_json(ciphertext, keys)
    except CryptoError as exc:
        raise BadRequest("notice_unreadable", "The notice is not sealed to My Portal.") from exc
    city = payload.get("city") if isinstance(payload, dict) else None
    if (
        not isinstance(city, dict)
        or payload.get("notice_id") != notice_id
        or city.get("code") != sender_code
        or not all(isinstance(payload.get(field), str) for field in ("title", "body", "sent_at"))
    ):
        raise BadRequest("notice_mismatch", "The sealed notice names another notice or sender, or is incomplete.")
    opened: dict[str, Any] = payload
    return opened
