"""Logging a resident in: J-LIS vouches with a signed assertion carrying an acquisition number;
the portal redeems it at the broker for its own symbol and opens a session on that symbol."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from portal.config import PortalSettings
from portal.sessions.models import PortalSession
from portal.sessions.schemas import SessionOut
from services.app import Runtime
from services.db import utc_now
from services.keys import public_key_from_b64
from services.problems import Unauthenticated, UpstreamError
from services.signing import RegisteredKey


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _signing_key_of_jlis(runtime: Runtime, settings: PortalSettings, assertion: str) -> RegisteredKey:
    """The key the assertion names (`kid`), if it is one in force of J-LIS's own component: any
    generation the broker's registry accepts now, so J-LIS rotates its key as other services do."""
    try:
        key_id = jwt.get_unverified_header(assertion).get("kid")
    except jwt.PyJWTError as exc:
        raise Unauthenticated("assertion_invalid", f"The login assertion is not valid: {exc}") from exc
    key = await runtime.directory.resolve(key_id) if isinstance(key_id, str) else None
    if (
        key is None
        or key.institution_kind != "jlis"
        or f"{key.institution_code}.{key.component}" != settings.jlis_issuer
    ):
        raise Unauthenticated("assertion_invalid", "The login assertion names no key of J-LIS in force.")
    return key


async def open_session(session: AsyncSession, runtime: Runtime, settings: PortalSettings, assertion: str) -> SessionOut:
    jlis_key = await _signing_key_of_jlis(runtime, settings, assertion)
    try:
        claims = jwt.decode(
            assertion,
            public_key_from_b64(jlis_key.signing_public_key),
            algorithms=["EdDSA"],
            audience=runtime.identity.institution_code,
            issuer=settings.jlis_issuer,
            options={"require": ["exp", "iat", "aud", "iss"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated("assertion_invalid", f"The login assertion is not valid: {exc}") from exc
    try:
        answer = await runtime.client.call(
            "POST",
            f"{settings.broker_url}/symbols",
            {"acquisition_numbers": [claims["acquisition_number"]]},
            upstream="broker",
        )
    except UpstreamError as error:
        if error.code in ("acquisition_number_used_or_expired", "unknown_acquisition_number"):
            raise Unauthenticated("assertion_used", "This login assertion was already used; log in again.") from error
        raise
    token = secrets.token_urlsafe(32)
    now = utc_now()
    expires_at = now + timedelta(seconds=settings.session_ttl_seconds)
    session.add(
        PortalSession(token_hash=_digest(token), symbol=answer["symbols"][0], created_at=now, expires_at=expires_at)
    )
    await session.flush()
    return SessionOut(session_token=token, expires_at=expires_at)


async def symbol_for_session(session: AsyncSession, token: str) -> str:
    record = await session.get(PortalSession, _digest(token))
    if record is None or record.expires_at <= utc_now():
        raise Unauthenticated("session_invalid", "Log in again: the session is unknown or expired.")
    return record.symbol
