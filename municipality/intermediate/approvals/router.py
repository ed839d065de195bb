"""HTTP: staff ask for approvals and their department's approver decides; the chief (or the
operator) names a deputy and marks absences; the operator reads the approvals log."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status

from municipality.intermediate.approvals.schemas import (
    AbsenceIn,
    AbsenceOut,
    ApprovalEventOut,
    ApprovalIn,
    ApprovalOut,
    ApproversOut,
    DecisionIn,
    DeputyIn,
    DeputyOut,
    RoleChangeIn,
    RoleChangeOut,
    Status,
)
from municipality.intermediate.approvals.service import (
    Actor,
    apply_role_change,
    approval_log,
    approvers_of,
    decide,
    department_approvals,
    designate_deputy,
    remove_deputy,
    request_approval,
    set_absence,
    visible_approval,
)
from municipality.intermediate.staff.router import CurrentStaff, StaffAdministrator
from municipality.intermediate.staff.schemas import StaffId
from municipality.intermediate.staff.service import authenticate_staff
from services.app import DbSession, Operator, RuntimeDep, bearer_token, require_operator
from services.problems import Unauthenticated

router = APIRouter(tags=["SCM approvals"])


async def operator_or_staff(request: Request, runtime: RuntimeDep, session: DbSession) -> Actor:
    """The operator (None), or the signed-in staff member."""
    try:
        require_operator(request, runtime)
    except Unauthenticated:
        return await authenticate_staff(session, bearer_token(request))
    return None


OperatorOrStaff = Annotated[Actor, Depends(operator_or_staff)]
Department = Annotated[str, Path(min_length=1, max_length=32)]


@router.post("/approvals", response_model=ApprovalOut, status_code=status.HTTP_201_CREATED)
async def post_approval(
    body: Annotated[ApprovalIn, Body()], staff: CurrentStaff, session: DbSession, request: Request
) -> ApprovalOut:
    """Ask for a privileged operation; the department's chief (or deputy) decides."""
    approval = await request_approval(session, request.app.state.role_grants, staff, body)
    return ApprovalOut.model_validate(approval)


@router.get("/approvals", response_model=list[ApprovalOut])
async def get_approvals(
    staff: CurrentStaff, session: DbSession, status_: Annotated[Status | None, Query(alias="status")] = None
) -> list[ApprovalOut]:
    """The caller's department's requests, newest first (e.g. `?status=pending` for the approver)."""
    return [ApprovalOut.model_validate(a) for a in await department_approvals(session, staff, status_)]


@router.get("/approvals/log", response_model=list[ApprovalEventOut])
async def get_approval_log(
    _operator: Operator, session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[ApprovalEventOut]:
    """The newest steps of every approval: requests, decisions, refused attempts, uses."""
    return [ApprovalEventOut.model_validate(e) for e in await approval_log(session, limit)]


@router.get("/approvals/{approval_id}", response_model=ApprovalOut)
async def get_approval(approval_id: int, staff: CurrentStaff, session: DbSession) -> ApprovalOut:
    return ApprovalOut.model_validate(await visible_approval(session, approval_id, staff))


@router.post("/approvals/{approval_id}/decision", response_model=ApprovalOut)
async def post_decision(
    approval_id: int, body: DecisionIn, staff: CurrentStaff, session: DbSession, runtime: RuntimeDep
) -> ApprovalOut:
    """Approve or refuse (with a reason): the chief, or the deputy while the chief is away."""
    return ApprovalOut.model_validate(await decide(session, runtime.database, approval_id, staff, body))


@router.get("/departments/{department}/approvers", response_model=ApproversOut)
async def get_approvers(department: Department, _actor: OperatorOrStaff, session: DbSession) -> ApproversOut:
    """Who may decide the department's requests right now."""
    approvers = await approvers_of(session, department)
    return ApproversOut(
        department=department,
        approvers=approvers.approvers,
        deputy=approvers.deputy,
        absent_chiefs=approvers.absent_chiefs,
    )


@router.put("/departments/{department}/deputy", response_model=DeputyOut)
async def put_deputy(
    department: Department, body: DeputyIn, actor: OperatorOrStaff, session: DbSession, request: Request
) -> DeputyOut:
    """Name the 主査 who decides while the 課長 is away (the chief or the operator)."""
    return await designate_deputy(session, request.app.state.role_grants, department, body.staff_id, actor)


@router.delete("/departments/{department}/deputy", status_code=status.HTTP_204_NO_CONTENT)
async def delete_deputy(
    department: Department, actor: OperatorOrStaff, session: DbSession, request: Request
) -> Response:
    await remove_deputy(session, request.app.state.role_grants, department, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/staff/{staff_id}/absence", response_model=AbsenceOut)
async def put_absence(
    staff_id: Annotated[StaffId, Path()], body: AbsenceIn, actor: OperatorOrStaff, session: DbSession
) -> AbsenceOut:
    """Mark a staff member away or back (themselves, their 課長, or the operator)."""
    return await set_absence(session, staff_id, body.absent, actor)


@router.post("/role-changes", response_model=RoleChangeOut)
async def post_role_change(
    body: RoleChangeIn, administrator: StaffAdministrator, session: DbSession, request: Request
) -> RoleChangeOut:
    """Apply an approved `role_change` (its requester from 情報政策課, or the operator)."""
    return await apply_role_change(session, request.app.state.role_grants, body.approval_id, administrator)
