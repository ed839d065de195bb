"""SCM staff accounts, sign-in and sessions.

Passwords are hashed with argon2id (pwdlib's recommended hasher) in a worker thread, so that a
sign-in does not stall the server's other requests. Signing in returns a random 256-bit bearer
token, good for a short while, of which only the SHA-256 is stored (a slow hash adds nothing for
random tokens). Wrong passwords in a row lock the account for a while, whatever comes next; an
unknown staff id and a wrong password get the same answer, so sign-in does not tell which ids exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from pwdlib import PasswordHash
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.config import IntermediateSettings
from municipality.intermediate.staff.models import StaffMember, StaffSession
from municipality.intermediate.staff.schemas import (
    CurrentSessionOut,
    LoginIn,
    PasswordReset,
    PasswordResetIn,
    SessionOut,
    StaffCreated,
    StaffIn,
    StaffOut,
)
from services.db import Database, utc_now
from services.problems import BadRequest, Conflict, Forbidden, NotFound, Unauthenticated
from services.rbac import RoleGrants

PASSWORD_HASH = PasswordHash.recommended()
OPERATOR = "operator"  # `created_by` of accounts the operator made
KEEP_EXPIRED_SESSIONS = timedelta(days=1)  # so that a stale token says "expired", not "invalid"


@dataclass(frozen=True)
class LoginPolicy:
    session_lifetime: timedelta
    max_failed_logins: int
    lockout: timedelta

    @classmethod
    def of(cls, settings: IntermediateSettings) -> LoginPolicy:
        return cls(
            session_lifetime=timedelta(minutes=settings.staff_session_minutes),
            max_failed_logins=settings.staff_max_failed_logins,
            lockout=timedelta(minutes=settings.staff_lockout_minutes),
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _generated_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


async def _hash(password: str) -> str:
    return await asyncio.to_thread(PASSWORD_HASH.hash, password)


@cache
def _decoy_hash() -> str:
    return PASSWORD_HASH.hash(secrets.token_urlsafe(32))


def _verify_against_decoy(password: str) -> bool:
    return PASSWORD_HASH.verify(password, _decoy_hash())


def staff_out(member: StaffMember) -> StaffOut:
    return StaffOut(
        staff_id=member.staff_id, department=member.department, title=member.title, created_at=member.created_at
    )


async def create_staff_account(
    session: AsyncSession, grants: RoleGrants, staff: StaffIn, *, created_by: str
) -> StaffCreated:
    if staff.department not in grants.roles():
        raise BadRequest("unknown_department", f"{staff.department} is not a department with a role.")
    if await session.get(StaffMember, staff.staff_id) is not None:
        raise Conflict("staff_exists", f"Staff member {staff.staff_id} already exists.")
    generated = None if staff.password is not None else _generated_password()
    member = StaffMember(
        staff_id=staff.staff_id,
        department=staff.department,
        title=staff.title,
        password_hash=await _hash(staff.password or generated or ""),
        failed_logins=0,
        locked_until=None,
        created_at=utc_now(),
        created_by=created_by,
    )
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same id created concurrently
        raise Conflict("staff_exists", f"Staff member {staff.staff_id} already exists.") from exc
    return StaffCreated(**staff_out(member).model_dump(), initial_password=generated)


async def reset_password(session: AsyncSession, staff_id: str, body: PasswordResetIn) -> PasswordReset:
    """An administrator sets a new password: it unlocks the account and ends its sessions."""
    member = await session.get(StaffMember, staff_id)
    if member is None:
        raise NotFound("unknown_staff", f"There is no staff member {staff_id}.")
    generated = None if body.password is not None else _generated_password()
    member.password_hash = await _hash(body.password or generated or "")
    member.failed_logins, member.locked_until = 0, None
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
    await session.flush()
    return PasswordReset(staff_id=staff_id, initial_password=generated)


def login_failed() -> Unauthenticated:
    return Unauthenticated("staff_login_failed", "The staff id or the password is wrong.")


def staff_locked(until: datetime) -> Forbidden:
    return Forbidden(
        "staff_locked",
        "Too many wrong passwords: the account is locked. Wait, or ask an administrator to reset the password.",
        locked_until=until.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


async def log_in(database: Database, policy: LoginPolicy, credentials: LoginIn) -> SessionOut:
    """A session for the right password of an unlocked account. Each step commits on its own,
    so a failure is counted although the request is answered with an error."""
    now = utc_now()
    async with database.sessions() as session:
        member = await session.get(StaffMember, credentials.staff_id)
    if member is None:
        await asyncio.to_thread(_verify_against_decoy, credentials.password)  # the same work as a real account
        raise login_failed()
    if member.locked_until is not None and member.locked_until > now:
        raise staff_locked(member.locked_until)
    valid, rehashed = await asyncio.to_thread(
        PASSWORD_HASH.verify_and_update, credentials.password, member.password_hash
    )
    if not valid:
        locked_until = await _count_failure(database, policy, member.staff_id, now)
        if locked_until is not None:
            raise staff_locked(locked_until)
        raise login_failed()
    token = secrets.token_urlsafe(32)
    expires_at = now + policy.session_lifetime
    async with database.sessions() as session:
        values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
        if rehashed is not None:  # the recommended parameters changed since the password was set
            values["password_hash"] = rehashed
        await session.execute(update(StaffMember).where(StaffMember.staff_id == member.staff_id).values(**values))
        await session.execute(
            delete(StaffSession).where(
                StaffSession.staff_id == member.staff_id, StaffSession.expires_at < now - KEEP_EXPIRED_SESSIONS
            )
        )
        session.add(
            StaffSession(token_hash=_digest(token), staff_id=member.staff_id, created_at=now, expires_at=expires_at)
        )
        await session.commit()
    return SessionOut(token=token, expires_at=expires_at, staff=staff_out(member))


async def _count_failure(database: Database, policy: LoginPolicy, staff_id: str, now: datetime) -> datetime | None:
    """Count one wrong password (atomically, as concurrent guesses race); lock at the limit."""
    async with database.sessions() as session:
        failures = await session.scalar(
            update(StaffMember)
            .where(StaffMember.staff_id == staff_id)
            .values(failed_logins=StaffMember.failed_logins + 1)
            .returning(StaffMember.failed_logins)
        )
        locked_until = None
        if failures is not None and failures >= policy.max_failed_logins:
            locked_until = now + policy.lockout
            await session.execute(
                update(StaffMember)
                .where(StaffMember.staff_id == staff_id)
                .values(failed_logins=0, locked_until=locked_until)
            )
        await session.commit()
    return locked_until


async def _signed_in(session: AsyncSession, token: str) -> tuple[StaffSession, StaffMember]:
    row = (
        await session.execute(
            select(StaffSession, StaffMember)
            .join(StaffMember, StaffSession.staff_id == StaffMember.staff_id)
            .where(StaffSession.token_hash == _digest(token))
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated("staff_token_invalid", "The staff token is not valid.")
    staff_session, member = row
    if staff_session.expires_at <= utc_now():
        raise Unauthenticated("staff_token_expired", "The staff session has expired: log in again.")
    return staff_session, member


async def authenticate_staff(session: AsyncSession, token: str) -> StaffMember:
    _staff_session, member = await _signed_in(session, token)
    return member


async def current_session(session: AsyncSession, token: str) -> CurrentSessionOut:
    staff_session, member = await _signed_in(session, token)
    return CurrentSessionOut(expires_at=staff_session.expires_at, staff=staff_out(member))


async def log_out(session: AsyncSession, token: str) -> None:
    """End the session (an expired one too); the token is refused from now on."""
    removed = await session.scalar(
        delete(StaffSession).where(StaffSession.token_hash == _digest(token)).returning(StaffSession.token_hash)
    )
    if removed is None:
        raise Unauthenticated("staff_token_invalid", "The staff token is not valid.")


def require_staff_administrator(grants: RoleGrants, member: StaffMember) -> None:
    if not grants.administers_staff(member.department):
        raise Forbidden(
            "staff_administration_not_permitted", f"{member.department} does not administer staff accounts."
        )
