"""Signing in to the intermediate server, for staff (職員) and contractors (委託先) alike: passwords,
the lockout after wrong ones, and short-lived bearer sessions.

Each kind keeps its accounts and sessions in tables of its own (so a contractor's token is never a
staff token); the columns (the mixins below) and every rule here are shared. Passwords are hashed
with argon2id (pwdlib's recommended hasher) in a worker thread, so that a sign-in does not stall the
server's other requests. A session is a random 256-bit bearer token of which only the SHA-256 is
stored (a slow hash adds nothing for random tokens). Wrong passwords in a row, at sign-in or when
changing one's own password, lock the account for a while, whatever comes next; each attempt is
counted before its password is checked, so guesses sent at once cannot outrun the lock. An unknown
id and a wrong password get the same answer after about the same work (a lock, though, only ever
answers for an id that exists).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Generic, TypeVar

from pwdlib import PasswordHash
from sqlalchemy import ColumnElement, Update, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column
from sqlalchemy.types import String

from municipality.intermediate.config import IntermediateSettings
from services.db import Database, UTCDateTime, utc_now
from services.problems import DomainError, Forbidden, Unauthenticated

PASSWORD_HASH = PasswordHash.recommended()
KEEP_EXPIRED_SESSIONS = timedelta(days=1)  # so that a stale token says "expired", not "invalid"
logger = logging.getLogger(__name__)


class PasswordAccount:
    """The columns of an account that signs in with a password (mixed into its table)."""

    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, with its parameters and salt
    failed_logins: Mapped[int] = mapped_column(default=0)  # wrong passwords since the last success or lock
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SessionToken:
    """The columns of a signed-in session: its token only as the SHA-256, good until `expires_at`."""

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


AccountT = TypeVar("AccountT", bound=PasswordAccount)
SessionT = TypeVar("SessionT", bound=SessionToken)


@dataclass(frozen=True)
class LoginPolicy:
    """How long a session lasts, and how many wrong passwords in a row lock an account for how long:
    the same for staff and contractors."""

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


@dataclass(frozen=True)
class AccountKind(Generic[AccountT, SessionT]):
    """Staff or contractors: their two tables, and the words of their refusals."""

    label: str  # "staff" | "contractor": the problem codes are `<label>_login_failed`, `<label>_locked`, …
    account: type[AccountT]
    account_id: InstrumentedAttribute[str]  # the account table's key
    session: type[SessionT]
    session_owner: InstrumentedAttribute[str]  # the session's account

    def login_failed(self) -> Unauthenticated:
        return Unauthenticated(f"{self.label}_login_failed", f"The {self.label} id or the password is wrong.")

    def password_wrong(self) -> Forbidden:
        return Forbidden(f"{self.label}_password_wrong", "The current password is wrong.")

    def locked(self, until: datetime) -> Forbidden:
        return Forbidden(
            f"{self.label}_locked",
            "Too many wrong passwords: the account is locked. Wait, or ask an administrator to reset the password.",
            locked_until=until.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    def token_invalid(self) -> Unauthenticated:
        return Unauthenticated(f"{self.label}_token_invalid", f"The {self.label} token is not valid.")

    def token_expired(self) -> Unauthenticated:
        return Unauthenticated(f"{self.label}_token_expired", f"The {self.label} session has expired: log in again.")


@dataclass(frozen=True)
class SignedIn(Generic[AccountT]):
    """An open session: the account, and until when the session lasts."""

    account_id: str
    account: AccountT
    expires_at: datetime


@dataclass(frozen=True)
class NewSession(SignedIn[AccountT]):
    token: str  # shown in this answer only


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generated_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(PASSWORD_HASH.hash, password)


async def hashed_or_generated(password: str | None) -> tuple[str, str | None]:
    """The hash of the password an administrator chose or, without one, of a generated password,
    which is returned too so that it is shown once."""
    generated = None if password is not None else generated_password()
    return await hash_password(password or generated or ""), generated


@cache
def _decoy_hash() -> str:
    return PASSWORD_HASH.hash(secrets.token_urlsafe(32))


def _verify_against_decoy(password: str) -> bool:
    return PASSWORD_HASH.verify(password, _decoy_hash())


def _unlocked(kind: AccountKind[AccountT, SessionT], account_id: str, **values: object) -> Update:
    """The update that resets the count of wrong passwords and lifts a lock, with `values` besides."""
    return (
        update(kind.account).where(kind.account_id == account_id).values(failed_logins=0, locked_until=None, **values)
    )


async def end_sessions(
    session: AsyncSession, kind: AccountKind[AccountT, SessionT], account_id: str, *, keep_token: str | None = None
) -> None:
    """End every session of the account, but the one of `keep_token` if given."""
    statement = delete(kind.session).where(kind.session_owner == account_id)
    if keep_token is not None:
        statement = statement.where(kind.session.token_hash != token_digest(keep_token))
    await session.execute(statement)


async def set_new_password(
    session: AsyncSession, kind: AccountKind[AccountT, SessionT], account_id: str, password: str | None
) -> str | None:
    """An administrator's reset: the new password (generated when none is given, and then returned
    to be shown once), the lock lifted, every session of the account ended."""
    password_hash, generated = await hashed_or_generated(password)
    await session.execute(_unlocked(kind, account_id, password_hash=password_hash))
    await end_sessions(session, kind, account_id)
    return generated


def _not_locked(kind: AccountKind[AccountT, SessionT], now: datetime) -> ColumnElement[bool]:
    return or_(kind.account.locked_until.is_(None), kind.account.locked_until <= now)


async def _verified(
    database: Database,
    kind: AccountKind[AccountT, SessionT],
    policy: LoginPolicy,
    account_id: str,
    password: str,
    wrong: DomainError,
) -> tuple[AccountT, str | None]:
    """The account, if it is not locked and the password is right, and its hash remade with today's
    parameters if they changed since; else `wrong` (or the lock). The attempt is counted before
    the password is checked, in a transaction of its own, so that guesses sent at once cannot
    outrun the lock: no more than the limit of them are ever checked before it."""
    now = utc_now()
    async with database.sessions() as session:
        account = await session.get(kind.account, account_id)
    if account is None:
        await asyncio.to_thread(_verify_against_decoy, password)  # the same work as a real account
        raise wrong
    attempts = await _count_attempt(database, kind, account_id, now, wrong)
    if attempts > policy.max_failed_logins:  # others raced past the limit before the lock was set
        raise kind.locked(await _lock(database, kind, policy, account_id, now))
    valid, rehashed = await asyncio.to_thread(PASSWORD_HASH.verify_and_update, password, account.password_hash)
    if not valid:
        if attempts >= policy.max_failed_logins:
            raise kind.locked(await _lock(database, kind, policy, account_id, now))
        raise wrong
    return account, rehashed


async def _count_attempt(
    database: Database, kind: AccountKind[AccountT, SessionT], account_id: str, now: datetime, wrong: DomainError
) -> int:
    """One more attempt since the last success or lock (atomically, as concurrent guesses race);
    an attempt on a locked account is refused with the lock and not counted."""
    async with database.sessions() as session:
        attempts = await session.scalar(
            update(kind.account)
            .where(kind.account_id == account_id, _not_locked(kind, now))
            .values(failed_logins=kind.account.failed_logins + 1)
            .returning(kind.account.failed_logins)
        )
        if attempts is None:
            locked_until = await session.scalar(select(kind.account.locked_until).where(kind.account_id == account_id))
            raise wrong if locked_until is None else kind.locked(locked_until)
        await session.commit()
    return int(attempts)


async def _lock(
    database: Database, kind: AccountKind[AccountT, SessionT], policy: LoginPolicy, account_id: str, now: datetime
) -> datetime:
    locked_until = now + policy.lockout
    async with database.sessions() as session:
        await session.execute(
            update(kind.account).where(kind.account_id == account_id).values(failed_logins=0, locked_until=locked_until)
        )
        await session.commit()
    logger.warning("%s account %s locked until %s after wrong passwords", kind.label, account_id, locked_until)
    return locked_until


async def _lock_of(session: AsyncSession, kind: AccountKind[AccountT, SessionT], account_id: str) -> DomainError:
    """Why a success could not be recorded: the account was locked meanwhile, or it is gone."""
    locked_until = await session.scalar(select(kind.account.locked_until).where(kind.account_id == account_id))
    return kind.locked(locked_until) if locked_until is not None and locked_until > utc_now() else kind.token_invalid()


async def sign_in(
    database: Database, kind: AccountKind[AccountT, SessionT], policy: LoginPolicy, account_id: str, password: str
) -> NewSession[AccountT]:
    """A new session for the right password of an unlocked account; a success resets the count of
    wrong passwords. Sessions expired for a while are cleared out on the way."""
    account, rehashed = await _verified(database, kind, policy, account_id, password, kind.login_failed())
    token = secrets.token_urlsafe(32)
    now = utc_now()
    expires_at = now + policy.session_lifetime
    async with database.sessions() as session:
        # A rehash: the recommended parameters changed since the password was set. Only if no lock
        # was set meanwhile by guesses sent alongside: a right guess never lifts their lock.
        succeeded = await session.scalar(
            _unlocked(kind, account_id, **({"password_hash": rehashed} if rehashed else {}))
            .where(_not_locked(kind, now))
            .returning(kind.account_id)
        )
        if succeeded is None:
            raise await _lock_of(session, kind, account_id)
        await session.execute(
            delete(kind.session).where(
                kind.session_owner == account_id, kind.session.expires_at < now - KEEP_EXPIRED_SESSIONS
            )
        )
        await session.execute(
            insert(kind.session).values(
                {
                    kind.session.token_hash: token_digest(token),
                    kind.session_owner: account_id,
                    kind.session.created_at: now,
                    kind.session.expires_at: expires_at,
                }
            )
        )
        await session.commit()
    return NewSession(account_id=account_id, account=account, expires_at=expires_at, token=token)


async def signed_in(session: AsyncSession, kind: AccountKind[AccountT, SessionT], token: str) -> SignedIn[AccountT]:
    """Whose the token is, if it names a session that has not expired."""
    row = (
        await session.execute(
            select(kind.session_owner, kind.session.expires_at, kind.account)
            .join(kind.account, kind.session_owner == kind.account_id)
            .where(kind.session.token_hash == token_digest(token))
        )
    ).one_or_none()
    if row is None:
        raise kind.token_invalid()
    account_id, expires_at, account = row
    if expires_at <= utc_now():
        raise kind.token_expired()
    return SignedIn(account_id=account_id, account=account, expires_at=expires_at)


async def sign_out(session: AsyncSession, kind: AccountKind[AccountT, SessionT], token: str) -> None:
    """End the session (an expired one too); the token is refused from now on."""
    removed = await session.scalar(
        delete(kind.session).where(kind.session.token_hash == token_digest(token)).returning(kind.session.token_hash)
    )
    if removed is None:
        raise kind.token_invalid()


async def change_own_password(
    database: Database,
    kind: AccountKind[AccountT, SessionT],
    policy: LoginPolicy,
    token: str,
    current_password: str,
    new_password: str,
) -> None:
    """Set a new password for the signed-in account, given its current one: the session of `token`
    goes on, the account's other sessions end (they may be someone else's who learnt the old
    password). A wrong current password counts towards the lockout as at sign-in, so that a stolen
    session cannot be used to guess the password either."""
    async with database.sessions() as session:
        caller = await signed_in(session, kind, token)
    account, _rehashed = await _verified(
        database, kind, policy, caller.account_id, current_password, kind.password_wrong()
    )
    new_hash = await hash_password(new_password)
    async with database.sessions() as session:
        # Only over the hash just checked: a password reset or change in the meantime ended this
        # session too, and wins.
        changed = await session.scalar(
            _unlocked(kind, caller.account_id, password_hash=new_hash)
            .where(kind.account.password_hash == account.password_hash, _not_locked(kind, utc_now()))
            .returning(kind.account_id)
        )
        if changed is None:
            raise await _lock_of(session, kind, caller.account_id)
        await end_sessions(session, kind, caller.account_id, keep_token=token)
        await session.commit()
