"""SCM contractors (委託): a department lets a contractor read some items of some persons for a
term, on its 課長's approval (rule 6), through one read-only endpoint, never in bulk.

A contractor signs in as staff do (sign_in.py: an argon2id password, the same lockout after wrong
passwords, a short session of which only the SHA-256 is stored), but in tables of its own, so a
contractor token is no staff token; a staff administrator resets a contractor's password as a
staff member's, which lifts a lock. Each read, allowed or refused, is a staff access log entry (rule 5)
under `contractor:<id>`, with the granting department and the grant's purpose, so the department's
chief sees it with the rest of the log.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.access_log.models import StaffAccess
from municipality.intermediate.access_log.service import AccessFacts, log_staff_access
from municipality.intermediate.approvals.service import Actor, consume_approval
from municipality.intermediate.contractors.models import ContractGrant, Contractor, ContractorSession
from municipality.intermediate.contractors.schemas import (
    ContractGrantDetails,
    ContractGrantIn,
    ContractorCreated,
    ContractorIn,
    ContractorLoginIn,
    ContractorPasswordReset,
    ContractorSessionOut,
)
from municipality.intermediate.copies.service import latest_copies
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
from municipality.intermediate.staff.models import CHIEF, StaffMember
from municipality.intermediate.staff.schemas import PasswordChangeIn, PasswordResetIn
from municipality.intermediate.views.schemas import CopiesView, ViewedItem
from municipality.intermediate.views.service import check_view_role
from services.app import Runtime
from services.db import Database, utc_now
from services.problems import Conflict, Forbidden, NotFound
from services.rbac import RoleGrants

CONTRACTOR_VIEW = "copies.contractor_view"  # the access log's procedure_code for a contractor's read
STAFF_ID_PREFIX = "contractor:"  # how the access log names a contractor, apart from staff ids
TERM_ZONE = ZoneInfo("Asia/Tokyo")  # a contract's dates are dates in Japan
NO_GRANT = "-"  # the access log's department for a contractor that holds no grant at all
CONTRACTORS = AccountKind(
    label="contractor",
    account=Contractor,
    account_id=Contractor.contractor_id,
    session=ContractorSession,
    session_owner=ContractorSession.contractor_id,
)


def contractor_log_id(contractor_id: str) -> str:
    return STAFF_ID_PREFIX + contractor_id


async def create_contractor(session: AsyncSession, body: ContractorIn, *, created_by: str) -> ContractorCreated:
    password_hash, generated = await hashed_or_generated(body.password)
    contractor = Contractor(
        contractor_id=body.contractor_id,
        company=body.company,
        password_hash=password_hash,
        failed_logins=0,
        locked_until=None,
        created_at=utc_now(),
        created_by=created_by,
    )
    session.add(contractor)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("contractor_exists", f"Contractor {body.contractor_id} already exists.") from exc
    return ContractorCreated(
        contractor_id=contractor.contractor_id,
        company=contractor.company,
        created_at=contractor.created_at,
        initial_password=generated,
    )


async def reset_contractor_password(
    session: AsyncSession, contractor_id: str, body: PasswordResetIn
) -> ContractorPasswordReset:
    """An administrator sets a new password: it unlocks the account and ends its sessions."""
    if await session.get(Contractor, contractor_id) is None:
        raise NotFound("unknown_contractor", f"There is no contractor {contractor_id}.")
    generated = await set_new_password(session, CONTRACTORS, contractor_id, body.password)
    return ContractorPasswordReset(contractor_id=contractor_id, initial_password=generated)


async def contractor_log_in(
    database: Database, policy: LoginPolicy, credentials: ContractorLoginIn
) -> ContractorSessionOut:
    """A session for the right password of an unlocked account (sign_in.py)."""
    opened = await sign_in(database, CONTRACTORS, policy, credentials.contractor_id, credentials.password)
    return ContractorSessionOut(
        token=opened.token,
        expires_at=opened.expires_at,
        contractor_id=opened.account.contractor_id,
        company=opened.account.company,
    )


async def change_contractor_password(
    database: Database, policy: LoginPolicy, token: str, body: PasswordChangeIn
) -> None:
    """A signed-in contractor sets its own password: its other sessions end (sign_in.py)."""
    await change_own_password(database, CONTRACTORS, policy, token, body.current_password, body.new_password)


async def authenticate_contractor(session: AsyncSession, token: str) -> Contractor:
    return (await signed_in(session, CONTRACTORS, token)).account


async def grant_contract(
    session: AsyncSession, roles: RoleGrants, staff: StaffMember, body: ContractGrantIn
) -> ContractGrant:
    """Make the grant an approved `contractor_grant` approval of the staff member names exactly;
    the approval is used up with it (both rolled back together if anything is refused)."""
    if await session.get(Contractor, body.contractor_id) is None:
        raise NotFound("unknown_contractor", f"There is no contractor {body.contractor_id}.")
    check_view_role(roles, staff, body.item_codes)
    approval = await consume_approval(session, body.approval_id, "contractor_grant", staff.staff_id)
    if approval.department != staff.department:  # the requester has moved since asking
        raise Forbidden("approval_of_another_department", f"Approval {approval.id} was given in {approval.department}.")
    wanted = ContractGrantDetails.model_validate(body.model_dump(exclude={"approval_id"})).normalised()
    try:
        approved = ContractGrantDetails.model_validate(approval.details).normalised()
    except ValueError:
        approved = None
    if approved != wanted:
        raise Conflict(
            "approval_details_mismatch",
            f"Approval {approval.id} does not allow this grant: its details must name exactly this "
            "contractor, these items and persons, this term and this purpose.",
        )
    grant = ContractGrant(
        contractor_id=wanted.contractor_id,
        department=staff.department,
        item_codes=wanted.item_codes,
        address_numbers=wanted.address_numbers,
        valid_from=wanted.valid_from,
        valid_to=wanted.valid_to,
        purpose=wanted.purpose,
        approval_id=approval.id,
        granted_by=staff.staff_id,
        granted_at=utc_now(),
    )
    session.add(grant)
    await session.flush()
    return grant


async def contractor_log_out(session: AsyncSession, token: str) -> None:
    """End the session; the token is refused from now on."""
    await sign_out(session, CONTRACTORS, token)


async def department_grants(session: AsyncSession, staff: StaffMember) -> list[ContractGrant]:
    rows = await session.scalars(
        select(ContractGrant).where(ContractGrant.department == staff.department).order_by(ContractGrant.id.desc())
    )
    return list(rows.all())


def _today() -> date:
    return utc_now().astimezone(TERM_ZONE).date()


def _covers(grant: ContractGrant, address_number: str, items: list[str]) -> bool:
    return address_number in grant.address_numbers and set(items) <= set(grant.item_codes)


async def read_as_contractor(
    session: AsyncSession,
    runtime: Runtime,
    roles: RoleGrants,
    contractor: Contractor,
    address_number: str,
    item_codes: list[str],
) -> CopiesView:
    """The latest copies, if a grant in its term covers the person and every item; otherwise 403
    `contract_out_of_term` (a grant covers them, but not today) or `contract_scope`. The granting
    department must still view the items: a role narrowed since the grant narrows it too."""
    wanted = sorted(set(item_codes))
    grants = list(
        await session.scalars(select(ContractGrant).where(ContractGrant.contractor_id == contractor.contractor_id))
    )
    today = _today()
    covering = [g for g in grants if _covers(g, address_number, wanted)]
    in_term = [g for g in covering if g.valid_from <= today <= g.valid_to]
    # The grant the entry is logged under: the one that allows the read, else the nearest miss.
    nearest = in_term or covering or [g for g in grants if address_number in g.address_numbers] or grants
    grant = nearest[0] if nearest else None
    facts = AccessFacts(
        staff_id=contractor_log_id(contractor.contractor_id),
        department=grant.department if grant is not None else NO_GRANT,
        address_number=address_number,
        procedure_code=CONTRACTOR_VIEW,
        item_codes=wanted,
        provider_code=runtime.identity.institution_code,
        purpose=grant.purpose[:200] if grant is not None else None,
    )
    if not in_term:
        error = (
            Forbidden("contract_out_of_term", f"The contract covering this read is not in force on {today}.")
            if covering
            else Forbidden("contract_scope", "No contract grant covers this person and every item asked for.")
        )
        await log_staff_access(runtime.database, facts, f"refused:{error.code}")
        raise error
    unviewable = roles.unviewable_items(facts.department, wanted)
    if unviewable:
        await log_staff_access(runtime.database, facts, "refused:item_not_permitted_for_role")
        raise Forbidden("item_not_permitted_for_role", f"{facts.department} no longer views {', '.join(unviewable)}.")
    copies = await latest_copies(session, address_number, wanted)
    await log_staff_access(runtime.database, facts, "read")
    held = {c.item_code for c in copies}
    return CopiesView(
        address_number=address_number,
        items=sorted(
            (ViewedItem(item_code=c.item_code, period=c.period, value=c.value, as_of=c.as_of) for c in copies),
            key=lambda item: item.item_code,
        ),
        missing_items=[code for code in wanted if code not in held],
    )


async def grant_accesses(session: AsyncSession, grant_id: int, actor: Actor) -> list[StaffAccess]:
    """The access-log entries of the grant's contractor under the granting department: for its
    課長 (or the operator) only."""
    grant = await session.get(ContractGrant, grant_id)
    if grant is None or (actor is not None and actor.department != grant.department):
        raise NotFound("contract_grant_not_found", f"No contract grant {grant_id} in your department.")
    if actor is not None and actor.title != CHIEF:
        raise Forbidden("not_department_chief", f"Only {grant.department}'s 課長 (or the operator) may do this.")
    rows = await session.scalars(
        select(StaffAccess)
        .where(
            StaffAccess.staff_id == contractor_log_id(grant.contractor_id),
            StaffAccess.department == grant.department,
        )
        .order_by(StaffAccess.seq)
    )
    return list(rows.all())
