"""Staff enrolment and authentication. Tokens are random 256-bit bearer secrets shown once;
only their SHA-256 is stored (a slow password hash adds nothing for random tokens)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.staff.models import StaffMember
from municipality.intermediate.staff.schemas import StaffCreated, StaffIn
from services.db import utc_now
from services.problems import BadRequest, Conflict, Unauthenticated
from services.rbac import RoleGrants


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def enrol_staff_member(session: AsyncSession, grants: RoleGrants, staff: StaffIn) -> StaffCreated:
    if staff.department not in grants.roles():
        raise BadRequest("unknown_department", f"{staff.department} is not a department with a role.")
    if await session.get(StaffMember, staff.staff_id) is not None:
        raise Conflict("staff_exists", f"Staff member {staff.staff_id} already exists.")
    token = secrets.token_urlsafe(32)
    session.add(
        StaffMember(
            staff_id=staff.staff_id, department=staff.department, token_hash=_digest(token), created_at=utc_now()
        )
    )
    await session.flush()
    return StaffCreated(staff_id=staff.staff_id, department=staff.department, token=token)


async def authenticate_staff(session: AsyncSession, token: str) -> StaffMember:
    member = await session.scalar(select(StaffMember).where(StaffMember.token_hash == _digest(token)))
    if member is None:
        raise Unauthenticated("staff_token_invalid", "The staff token is not valid.")
    return member
