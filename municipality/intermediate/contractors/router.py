"""HTTP: contractor accounts and password resets (operator or staff administrator), contract grants
(a department's staff, on an approval; the chief sees the accesses), the contractor's sign-in and
own password, and its one read-only endpoint."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from municipality.intermediate.approvals.router import OperatorOrStaff
from municipality.intermediate.config import IntermediateSettings
from municipality.intermediate.contractors.models import Contractor
from municipality.intermediate.contractors.schemas import (
    ContractAccessOut,
    ContractGrantIn,
    ContractGrantOut,
    ContractorCopiesIn,
    ContractorCreated,
    ContractorId,
    ContractorIn,
    ContractorLoginIn,
    ContractorPasswordReset,
    ContractorSessionOut,
)
from municipality.intermediate.contractors.service import (
    authenticate_contractor,
    change_contractor_password,
    contractor_log_in,
    contractor_log_out,
    create_contractor,
    department_grants,
    grant_accesses,
    grant_contract,
    read_as_contractor,
    reset_contractor_password,
)
from municipality.intermediate.sign_in import LoginPolicy
from municipality.intermediate.staff.router import CurrentStaff, StaffAdministrator
from municipality.intermediate.staff.schemas import PasswordChangeIn, PasswordResetIn
from municipality.intermediate.views.schemas import CopiesView
from services.app import DbSession, RuntimeDep, bearer_token, settings_of

router = APIRouter(tags=["SCM contractors"])


async def current_contractor(request: Request, session: DbSession) -> Contractor:
    return await authenticate_contractor(session, bearer_token(request))


CurrentContractor = Annotated[Contractor, Depends(current_contractor)]


@router.post("/contractors", response_model=ContractorCreated, status_code=status.HTTP_201_CREATED)
async def post_contractor(
    body: ContractorIn, administrator: StaffAdministrator, session: DbSession
) -> ContractorCreated:
    """A contractor account; a generated initial password is shown in this answer only."""
    return await create_contractor(session, body, created_by=administrator)


@router.put("/contractors/{contractor_id}/password", response_model=ContractorPasswordReset)
async def put_contractor_password(
    contractor_id: Annotated[ContractorId, Path()],
    body: PasswordResetIn,
    _administrator: StaffAdministrator,
    session: DbSession,
) -> ContractorPasswordReset:
    """Set a new password (generated when none is given): unlocks the account, ends its sessions."""
    return await reset_contractor_password(session, contractor_id, body)


@router.post("/contractor/sessions", response_model=ContractorSessionOut, status_code=status.HTTP_201_CREATED)
async def post_contractor_session(body: ContractorLoginIn, runtime: RuntimeDep) -> ContractorSessionOut:
    """Sign in as a contractor: a token for `POST /contractor/copies` only, as short-lived as staff's,
    and the same lockout after wrong passwords."""
    return await contractor_log_in(runtime.database, LoginPolicy.of(settings_of(runtime, IntermediateSettings)), body)


@router.post("/contractor/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def post_contractor_password(body: PasswordChangeIn, request: Request, runtime: RuntimeDep) -> Response:
    """Change the contractor's own password, as staff do: this session goes on, the others end."""
    policy = LoginPolicy.of(settings_of(runtime, IntermediateSettings))
    await change_contractor_password(runtime.database, policy, bearer_token(request), body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/contractor/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
async def delete_contractor_session(_contractor: CurrentContractor, request: Request, session: DbSession) -> Response:
    """Sign out."""
    await contractor_log_out(session, bearer_token(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/contractor/copies", response_model=CopiesView)
async def post_contractor_copies(
    body: ContractorCopiesIn, contractor: CurrentContractor, runtime: RuntimeDep, session: DbSession, request: Request
) -> CopiesView:
    """The latest copies of one person, within an active contract grant; every attempt is logged."""
    return await read_as_contractor(
        session, runtime, request.app.state.role_grants, contractor, body.address_number, body.item_codes
    )


@router.post("/contract-grants", response_model=ContractGrantOut, status_code=status.HTTP_201_CREATED)
async def post_contract_grant(
    body: ContractGrantIn, staff: CurrentStaff, session: DbSession, request: Request
) -> ContractGrantOut:
    """Grant what an approved `contractor_grant` approval names; the approval is used up."""
    grant = await grant_contract(session, request.app.state.role_grants, staff, body)
    return ContractGrantOut.model_validate(grant)


@router.get("/contract-grants", response_model=list[ContractGrantOut])
async def get_contract_grants(staff: CurrentStaff, session: DbSession) -> list[ContractGrantOut]:
    """The grants the caller's department made."""
    return [ContractGrantOut.model_validate(g) for g in await department_grants(session, staff)]


@router.get("/contract-grants/{grant_id}/accesses", response_model=list[ContractAccessOut])
async def get_contract_grant_accesses(
    grant_id: Annotated[int, Path()], actor: OperatorOrStaff, session: DbSession
) -> list[ContractAccessOut]:
    """Every read and refusal of the grant's contractor under the department: its 課長 or the operator."""
    return [ContractAccessOut.model_validate(a) for a in await grant_accesses(session, grant_id, actor)]
