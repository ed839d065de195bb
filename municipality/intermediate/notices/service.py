"""OSR お知らせ: a staff member sends a notice to a resident, who reads it in My Portal.

The city names the person by its own symbol and seals `{notice_id, title, body, sent_at, city}` to
My Portal's registered encryption key, so the broker relays a notice it cannot read (rule 3) and
translates the city's symbol into My Portal's for the same person (rule 2). Staff of a department
whose role grants any query or view (a department that deals with residents) may send; 情報政策課,
which sees no personal data, may not. Each attempt, sent or refused, is in the staff access log
(rule 5); each notice that went to the broker, delivered or refused there, is also in the city's
record of sent notices.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.access_log.service import AccessFacts, log_staff_access
from municipality.intermediate.notices.models import SentNotice
from municipality.intermediate.notices.schemas import NoticeIn, NoticeSent, SentNoticeOut
from municipality.intermediate.queries.service import unknown_address_number
from municipality.intermediate.staff.models import StaffMember
from municipality.intermediate.symbols.service import symbol_for_address
from services.app import Runtime
from services.db import utc_now
from services.keys import load_or_create_secret
from services.problems import DomainError, Forbidden, UpstreamError
from services.rbac import RoleGrants
from services.sealing import seal_json
from services.signing import RegisteredKey

SEND_NOTICE = "notices.send"  # the access log's procedure_code for a notice sent to a resident
MY_PORTAL = "portal"  # My Portal's institution code at the broker's registry
NOTICE_DIGEST_KEY = "notice-digest.key"  # the HMAC key for `text_hmac`, created at first use


async def send_notice(
    session: AsyncSession, runtime: Runtime, grants: RoleGrants, staff: StaffMember, notice: NoticeIn
) -> NoticeSent:
    notice_id = uuid.uuid4().hex
    sent_at = utc_now()
    payload = {
        "notice_id": notice_id,
        "title": notice.title,
        "body": notice.body,
        "sent_at": sent_at.isoformat(),
        "city": {"code": runtime.identity.institution_code, "name": runtime.identity.institution_name},
    }
    record = SentNotice(
        notice_id=notice_id,
        address_number=notice.address_number,
        staff_id=staff.staff_id,
        department=staff.department,
        sent_at=sent_at,
        text_hmac=hmac.new(
            load_or_create_secret(runtime.settings.data_dir / "keys" / NOTICE_DIGEST_KEY),
            json.dumps([notice.title, notice.body], ensure_ascii=False).encode("utf-8"),
            hashlib.sha256,
        ).hexdigest(),
        outcome="delivered",
        outcome_code="delivered",
    )
    facts = AccessFacts(
        staff_id=staff.staff_id,
        department=staff.department,
        address_number=notice.address_number,
        procedure_code=SEND_NOTICE,
        item_codes=[],
        provider_code=MY_PORTAL,
        purpose=f"notice {notice_id}",
    )
    try:
        check_notice_role(grants, staff)
        symbol = await symbol_for_address(session, notice.address_number)
        if symbol is None:
            raise unknown_address_number()
        portal = await portal_key(runtime)
        await runtime.client.call(
            "POST",
            f"{runtime.settings.broker_url}/notices",
            {
                "notice_id": notice_id,
                "sender_symbol": symbol,
                "ciphertext": seal_json(payload, portal.encryption_public_key),
            },
            upstream="broker",
        )
    except DomainError as error:
        await log_staff_access(runtime.database, facts, f"refused:{error.code}")
        if isinstance(error, UpstreamError):  # the broker's (or its registry's) word on it: keep it
            record.outcome = "refused" if error.status < 500 else "failed"
            record.outcome_code = error.code
            await _keep(runtime, record)
        raise
    await log_staff_access(runtime.database, facts, "sent")
    await _keep(runtime, record)
    return NoticeSent(notice_id=notice_id, address_number=notice.address_number, sent_at=sent_at, outcome="delivered")


def check_notice_role(grants: RoleGrants, staff: StaffMember) -> None:
    role = grants.role(staff.department)
    if not role.query and not role.view:
        raise Forbidden(
            "notice_not_permitted_for_role",
            f"{staff.department} deals with no resident's data, so it may not send notices to residents.",
        )


async def portal_key(runtime: Runtime) -> RegisteredKey:
    """My Portal's key in force, from the broker's registry: the newest active generation, resolved
    through the key directory as any other institution's key (it must belong to a portal)."""
    unregistered = UpstreamError("portal_not_registered", "My Portal has no key in force at the broker.", status=503)
    try:
        generations = await runtime.client.call(
            "GET",
            f"{runtime.settings.broker_url}/registry/institutions/{MY_PORTAL}/components/portal/keys",
            upstream="broker",
        )
    except UpstreamError as error:
        if error.status == 404:
            raise unregistered from error
        raise
    active = [g for g in generations if g["status"] == "active"]
    newest = max(active, key=lambda g: g["generation"]) if active else None
    registered = await runtime.directory.resolve(newest["key_id"]) if newest else None
    if registered is None or registered.institution_kind != "portal":
        raise unregistered
    return registered


async def _keep(runtime: Runtime, record: SentNotice) -> None:
    """In a transaction of its own, so that a notice the broker refused is recorded too."""
    async with runtime.database.sessions() as session:
        session.add(record)
        await session.commit()


async def sent_notices(session: AsyncSession, limit: int) -> list[SentNoticeOut]:
    query = select(SentNotice).order_by(SentNotice.sent_at.desc()).limit(limit)
    return [SentNoticeOut.model_validate(n) for n in await session.scalars(query)]
