"""SCM staff accounts, sign-in and sessions.

How passwords, sessions and the lockout work, the same for contractors, is in sign_in.py; here are
what is staff's own: departments and titles, and administrators who make accounts and reset them.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.approvals.models import DepartmentDeputy
from municipality.intermediate.sign_in import (
    AccountKind,
    LoginPolicy,
    change_own_password,
    hashed_or_generated,
    set_new_password,
    sign_in,
    sign_out,
    signed_in,
)
from municipality.intermediate.staff.models import CHIEF, StaffMember, StaffSession
from municipality.intermediate.staff.schemas import (
    CurrentSessionOut,
    LoginIn,
    PasswordChangeIn,
    PasswordReset,
    PasswordResetIn,
    SessionOut,
    StaffCreated,
    StaffIn,
    StaffOut,
)
from services.db import Database, utc_now
from services.problems import BadRequest, Conflict, Forbidden, NotFound
from services.rbac import RoleGrants

OPERATOR = "operator"  # `created_by` of accounts the operator made
STAFF = AccountKind(
    label="staff",
    account=StaffMember,
    account_id=StaffMember.staff_id,
    session=StaffSession,
    session_owner=StaffSession.staff_id,
)


def staff_out(member: StaffMember) -> StaffOut:
    return StaffOut(
        staff_id=member.staff_id, department=member.department, title=member.title, created_at=member.created_at
    )


async def create_staff_account(
    session: AsyncSession, grants: RoleGrants, staff: StaffIn, *, created_by: str
) -> StaffCreated:
    if staff.department not in grants.roles():
        raise BadRequest("unknown_department", f"{staff.department} is not a department with a role.")
    if staff.staff_id == OPERATOR:  # the name the operator acts under in approvals and records
        raise BadRequest("reserved_staff_id", f"{OPERATOR} is reserved for the operator.")
    if staff.title == CHIEF and created_by != OPERATOR:
        raise _approver_account_needs_operator(f"A {CHIEF} account")
    if await session.get(StaffMember, staff.staff_id) is not None:
        raise Conflict("staff_exists", f"Staff member {staff.staff_id} already exists.")
    password_hash, generated = await hashed_or_generated(staff.password)
    member = StaffMember(
        staff_id=staff.staff_id,
        department=staff.department,
        title=staff.title,
        password_hash=password_hash,
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


async def reset_password(
    session: AsyncSession, staff_id: str, body: PasswordResetIn, *, reset_by: str
) -> PasswordReset:
    """An administrator sets a new password: it unlocks the account and ends its sessions."""
    member = await session.get(StaffMember, staff_id)
    if member is None:
        raise NotFound("unknown_staff", f"There is no staff member {staff_id}.")
    if reset_by != OPERATOR and await _decides_approvals(session, member):
        raise _approver_account_needs_operator(f"The password of {staff_id}, who decides approvals,")
    generated = await set_new_password(session, STAFF, staff_id, body.password)
    return PasswordReset(staff_id=staff_id, initial_password=generated)


async def _decides_approvals(session: AsyncSession, member: StaffMember) -> bool:
    """A 課長, or the 主査 named as their department's deputy."""
    deputy = await session.get(DepartmentDeputy, member.department)
    return member.title == CHIEF or (deputy is not None and deputy.staff_id == member.staff_id)


def _approver_account_needs_operator(what: str) -> Forbidden:
    """Whoever could make or take over an approver's account could approve their own requests,
    so an administrator's power over accounts stops short of approvers."""
    return Forbidden("approver_account_needs_operator", f"{what} is made or reset by the operator only.")


async def log_in(database: Database, policy: LoginPolicy, credentials: LoginIn) -> SessionOut:
    """A session for the right password of an unlocked account (sign_in.py)."""
    opened = await sign_in(database, STAFF, policy, credentials.staff_id, credentials.password)
    return SessionOut(token=opened.token, expires_at=opened.expires_at, staff=staff_out(opened.account))


async def change_password(database: Database, policy: LoginPolicy, token: str, body: PasswordChangeIn) -> None:
    """A signed-in member sets their own password: their other sessions end (sign_in.py)."""
    await change_own_password(database, STAFF, policy, token, body.current_password, body.new_password)


async def authenticate_staff(session: AsyncSession, token: str) -> StaffMember:
    return (await signed_in(session, STAFF, token)).account


async def current_session(session: AsyncSession, token: str) -> CurrentSessionOut:
    caller = await signed_in(session, STAFF, token)
    return CurrentSessionOut(expires_at=caller.expires_at, staff=staff_out(caller.account))


async def log_out(session: AsyncSession, token: str) -> None:
    """End the session (an expired one too); the token is refused from now on."""
    await sign_out(session, STAFF, token)


def require_staff_administrator(grants: RoleGrants, member: StaffMember) -> None:
    if not grants.administers_staff(member.department):
        raise Forbidden(
            "staff_administration_not_permitted", f"{member.department} does not administer staff accounts."
        )
