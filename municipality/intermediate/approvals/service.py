"""SCM approvals (rule 6): a privileged operation runs only on an approval its requester holds.

Who decides a request: a 課長 (section chief) of the requester's department who is not marked
absent; when none is (all away, or the only chief is the requester), the 主査 the department
designated in advance as deputy, if present. Never the requester. With nobody able to decide,
a request is refused at once (409 `no_approver_available`) rather than left waiting unseen.
A chief marked absent cannot decide (403 `approver_absent`): while away the deputy decides, and
a chief who is back marks themselves present first, so the log always shows who stood in.

Every request, decision and consumption is in the approvals log in the same transaction as the
change; a refused decision attempt is logged in a transaction of its own, so it survives the
refusal's rollback.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.approvals.models import (
    ApprovalEvent,
    ApprovalRequest,
    DepartmentDeputy,
    StaffAbsence,
)
from municipality.intermediate.approvals.schemas import (
    AbsenceOut,
    Action,
    ApprovalIn,
    BulkExportRequest,
    DecisionIn,
    DeputyOut,
    RoleChangeDetails,
    RoleChangeOut,
    RoleChangeRequest,
    Status,
)
from municipality.intermediate.staff.models import CHIEF, SENIOR, StaffMember
from municipality.intermediate.staff.service import OPERATOR
from municipality.intermediate.views.service import check_view_role
from services.db import Database, utc_now
from services.problems import BadRequest, Conflict, DomainError, Forbidden, NotFound
from services.rbac import RoleGrants

# Actions that change the system rather than read data: only the department that administers
# the system (情報政策課, `administers_staff` in roles.yaml) may ask for them.
SYSTEM_ACTIONS: frozenset[str] = frozenset({"role_change", "disposal", "symbol_reissue_application"})

Actor = StaffMember | None  # None: the operator


def actor_id(actor: Actor) -> str:
    return OPERATOR if actor is None else actor.staff_id


@dataclass(frozen=True)
class Approvers:
    """Who may decide a department's requests now (excluding the requester)."""

    department: str
    approvers: list[str]
    deputy: str | None
    absent_chiefs: list[str]
    chiefs: list[str]


async def approvers_of(session: AsyncSession, department: str, requester: str | None = None) -> Approvers:
    chiefs = list(
        (
            await session.scalars(
                select(StaffMember.staff_id)
                .where(StaffMember.department == department, StaffMember.title == CHIEF)
                .order_by(StaffMember.staff_id)
            )
        ).all()
    )
    deputy_row = await session.get(DepartmentDeputy, department)
    deputy = None
    if deputy_row is not None:
        member = await session.get(StaffMember, deputy_row.staff_id)
        # A designation lapses when its 主査 has since moved department or title.
        if member is not None and (member.department, member.title) == (department, SENIOR):
            deputy = member.staff_id
    absent = set(
        (
            await session.scalars(
                select(StaffAbsence.staff_id).where(StaffAbsence.staff_id.in_([*chiefs, *([deputy] if deputy else [])]))
            )
        ).all()
    )
    available = [chief for chief in chiefs if chief not in absent and chief != requester]
    if not available and deputy is not None and deputy not in absent and deputy != requester:
        available = [deputy]
    return Approvers(department, available, deputy, sorted(absent & set(chiefs)), chiefs)


def _no_approver(approvers: Approvers) -> Conflict:
    if not approvers.chiefs:
        why = f"{approvers.department} has no 課長"
    elif approvers.absent_chiefs:
        why = f"its 課長 ({', '.join(approvers.absent_chiefs)}) is marked absent"
    else:
        why = "its only 課長 is the requester"
    deputy = "the deputy is absent too" if approvers.deputy else "no deputy (主査) is designated"
    return Conflict(
        "no_approver_available",
        f"Nobody can decide {approvers.department}'s requests now: {why} and {deputy}. "
        f"Designate a deputy (PUT /departments/{approvers.department}/deputy)"
        + (" or mark the chief present." if approvers.absent_chiefs else "."),
        department=approvers.department,
    )


async def _log(
    session: AsyncSession, event: str, actor: str, department: str, approval_id: int | None = None, detail: str = ""
) -> None:
    session.add(
        ApprovalEvent(
            at=utc_now(), approval_id=approval_id, event=event, staff_id=actor, department=department, detail=detail
        )
    )


async def request_approval(
    session: AsyncSession, grants: RoleGrants, staff: StaffMember, body: ApprovalIn
) -> ApprovalRequest:
    """Lodge a request for the requester's department's approver to decide."""
    if body.action in SYSTEM_ACTIONS and not grants.administers_staff(staff.department):
        raise Forbidden(
            "action_not_permitted_for_role",
            f"{staff.department} may not ask for {body.action}: only the department administering the system may.",
        )
    if isinstance(body, BulkExportRequest):
        check_view_role(grants, staff, body.details.item_codes)
    if isinstance(body, RoleChangeRequest):
        await check_role_change(session, grants, body.details, requester=staff.staff_id)
    approvers = await approvers_of(session, staff.department, requester=staff.staff_id)
    if not approvers.approvers:
        raise _no_approver(approvers)
    details = body.details.model_dump(mode="json") if isinstance(body.details, BaseModel) else body.details
    approval = ApprovalRequest(
        action=body.action,
        department=staff.department,
        requested_by=staff.staff_id,
        requested_at=utc_now(),
        details=details,
        reason=body.reason,
        status="pending",
    )
    session.add(approval)
    await session.flush()
    await _log(session, "requested", staff.staff_id, staff.department, approval.id, body.reason)
    return approval


async def check_role_change(
    session: AsyncSession, grants: RoleGrants, change: RoleChangeDetails, *, requester: str
) -> StaffMember:
    """The staff member whose role would change, if the change can be made at all."""
    if change.staff_id == requester:
        raise Forbidden("own_role_change", "Nobody may change their own department or title.")
    if change.department is not None and change.department not in grants.roles():
        raise BadRequest("unknown_department", f"{change.department} has no role in this city.")
    member = await session.get(StaffMember, change.staff_id)
    if member is None:
        raise NotFound("unknown_staff", f"No staff member {change.staff_id}.")
    return member


async def apply_role_change(
    session: AsyncSession, grants: RoleGrants, approval_id: int, administrator: str
) -> RoleChangeOut:
    """Move a staff member to the approved department and title. The administrator applying it
    must be the one who asked (the operator may apply anyone's approved change)."""
    requester = None if administrator == OPERATOR else administrator
    approval = await consume_approval(session, approval_id, "role_change", requester)
    change = RoleChangeDetails.model_validate(approval.details)
    member = await check_role_change(session, grants, change, requester=approval.requested_by)
    before = (member.department, member.title)
    member.department = change.department or member.department
    member.title = change.title or member.title
    await _log(
        session,
        "role_changed",
        administrator,
        approval.department,
        approval.id,
        f"{member.staff_id}: {before[0]} {before[1]} → {member.department} {member.title}",
    )
    return RoleChangeOut(
        approval_id=approval.id,
        staff_id=member.staff_id,
        department=member.department,
        title=member.title,
        previous_department=before[0],
        previous_title=before[1],
    )


async def decide(
    session: AsyncSession, database: Database, approval_id: int, staff: StaffMember, body: DecisionIn
) -> ApprovalRequest:
    """Approve or refuse a pending request as its department's current approver."""
    approval = await _approval(session, approval_id)
    try:
        await _check_approver(session, approval, staff)
    except DomainError as error:
        await _log_in_own_transaction(database, f"decision_refused:{error.code}", staff, approval)
        raise
    approval.status = "approved" if body.decision == "approve" else "refused"
    approval.decided_by = staff.staff_id
    approval.decided_at = utc_now()
    approval.decision_reason = body.reason
    await _log(session, approval.status, staff.staff_id, approval.department, approval.id, body.reason or "")
    return approval


async def _check_approver(session: AsyncSession, approval: ApprovalRequest, staff: StaffMember) -> None:
    if approval.requested_by == staff.staff_id:
        raise Forbidden("own_request", "Nobody may decide their own request.")
    if approval.status != "pending":
        raise Conflict("approval_already_decided", f"Approval {approval.id} is {approval.status}, not pending.")
    approvers = await approvers_of(session, approval.department, requester=approval.requested_by)
    if staff.staff_id in approvers.approvers:
        return
    if staff.staff_id not in (*approvers.chiefs, approvers.deputy):
        raise Forbidden(
            "not_an_approver",
            f"Only {approval.department}'s 課長, or its designated deputy while the chief is away, "
            "decides its requests.",
        )
    if not approvers.approvers:
        raise _no_approver(approvers)
    if staff.staff_id in approvers.absent_chiefs:
        raise Forbidden(
            "approver_absent",
            "You are marked absent, so your deputy decides; mark yourself present first "
            f"(PUT /staff/{staff.staff_id}/absence).",
        )
    raise Forbidden("not_an_approver", f"The deputy decides only while {approval.department}'s 課長 is away.")


async def _log_in_own_transaction(
    database: Database, event: str, staff: StaffMember, approval: ApprovalRequest
) -> None:
    async with database.sessions() as session:
        await _log(session, event, staff.staff_id, staff.department, approval.id)
        await session.commit()


async def consume_approval(
    session: AsyncSession, approval_id: int, action: Action, requested_by: str | None
) -> ApprovalRequest:
    """Use an approved approval of `action` held by `requested_by` (None: the operator, acting
    for any requester), exactly once: a single conditional update, so two concurrent uses cannot
    both succeed. Rolled back with the operation if it fails."""
    conditions = [
        ApprovalRequest.id == approval_id,
        ApprovalRequest.action == action,
        ApprovalRequest.status == "approved",
    ]
    if requested_by is not None:
        conditions.append(ApprovalRequest.requested_by == requested_by)
    consumed = await session.scalar(
        update(ApprovalRequest)
        .where(*conditions)
        .values(status="consumed", consumed_at=utc_now())
        .returning(ApprovalRequest.id)
    )
    approval = await _approval(session, approval_id)
    await session.refresh(approval)
    if consumed is None:
        raise _unusable(approval, action, requested_by)
    await _log(session, "consumed", requested_by or OPERATOR, approval.department, approval.id)
    return approval


def _unusable(approval: ApprovalRequest, action: Action, requested_by: str | None) -> DomainError:
    if approval.action != action:
        return Forbidden(
            "approval_for_another_action", f"Approval {approval.id} is for {approval.action}, not {action}."
        )
    if requested_by is not None and approval.requested_by != requested_by:
        return Forbidden("approval_not_yours", f"Approval {approval.id} was requested by someone else.")
    messages = {
        "pending": "is still waiting for a decision",
        "refused": "was refused",
        "consumed": "has been used already: ask for a new one",
    }
    return Conflict(
        f"approval_{approval.status}", f"Approval {approval.id} {messages.get(approval.status, 'cannot be used')}."
    )


async def _approval(session: AsyncSession, approval_id: int) -> ApprovalRequest:
    approval = await session.get(ApprovalRequest, approval_id)
    if approval is None:
        raise NotFound("approval_not_found", f"No approval {approval_id}.")
    return approval


async def visible_approval(session: AsyncSession, approval_id: int, staff: StaffMember) -> ApprovalRequest:
    """A request, to the staff of the department it belongs to."""
    approval = await _approval(session, approval_id)
    if approval.department != staff.department:
        raise NotFound("approval_not_found", f"No approval {approval_id} in {staff.department}.")
    return approval


async def department_approvals(
    session: AsyncSession, staff: StaffMember, status: Status | None
) -> list[ApprovalRequest]:
    query = select(ApprovalRequest).where(ApprovalRequest.department == staff.department)
    if status is not None:
        query = query.where(ApprovalRequest.status == status)
    return list((await session.scalars(query.order_by(ApprovalRequest.id.desc()).limit(500))).all())


async def approval_log(session: AsyncSession, limit: int) -> list[ApprovalEvent]:
    events = await session.scalars(select(ApprovalEvent).order_by(ApprovalEvent.seq.desc()).limit(limit))
    return list(reversed(events.all()))


def _require_chief_of(actor: Actor, department: str) -> None:
    if actor is not None and (actor.department, actor.title) != (department, CHIEF):
        raise Forbidden("not_department_chief", f"Only {department}'s 課長 (or the operator) may do this.")


async def designate_deputy(
    session: AsyncSession, grants: RoleGrants, department: str, staff_id: str, actor: Actor
) -> DeputyOut:
    """Name the department's deputy approver in advance: one of its own 主査."""
    if department not in grants.roles():
        raise BadRequest("unknown_department", f"{department} has no role in this city.")
    _require_chief_of(actor, department)
    member = await session.get(StaffMember, staff_id)
    if member is None:
        raise NotFound("unknown_staff", f"No staff member {staff_id}.")
    if (member.department, member.title) != (department, SENIOR):
        raise BadRequest("deputy_not_senior_staff", f"A deputy must be a 主査 of {department}.")
    row = DepartmentDeputy(
        department=department, staff_id=staff_id, designated_by=actor_id(actor), designated_at=utc_now()
    )
    await session.merge(row)
    await _log(session, "deputy_designated", actor_id(actor), department, detail=staff_id)
    return DeputyOut(
        department=department, staff_id=staff_id, designated_by=row.designated_by, designated_at=row.designated_at
    )


async def remove_deputy(session: AsyncSession, grants: RoleGrants, department: str, actor: Actor) -> None:
    if department not in grants.roles():
        raise BadRequest("unknown_department", f"{department} has no role in this city.")
    _require_chief_of(actor, department)
    await session.execute(delete(DepartmentDeputy).where(DepartmentDeputy.department == department))
    await _log(session, "deputy_removed", actor_id(actor), department)


async def set_absence(session: AsyncSession, staff_id: str, absent: bool, actor: Actor) -> AbsenceOut:
    """Mark a staff member away or back: themselves, a 課長 of their department, or the operator."""
    member = await session.get(StaffMember, staff_id)
    if member is None:
        raise NotFound("unknown_staff", f"No staff member {staff_id}.")
    if actor is not None and actor.staff_id != staff_id:
        try:
            _require_chief_of(actor, member.department)
        except Forbidden as error:
            raise Forbidden(
                "absence_not_permitted", f"Only {staff_id}, a 課長 of {member.department} or the operator may do this."
            ) from error
    row = await session.get(StaffAbsence, staff_id)
    if absent and row is None:
        row = StaffAbsence(staff_id=staff_id, since=utc_now(), marked_by=actor_id(actor))
        session.add(row)
    elif not absent and row is not None:
        await session.delete(row)
        row = None
    await _log(
        session, "marked_absent" if absent else "marked_present", actor_id(actor), member.department, detail=staff_id
    )
    return AbsenceOut(staff_id=staff_id, absent=row is not None, since=row.since if row else None)
