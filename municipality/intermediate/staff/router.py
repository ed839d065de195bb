"""HTTP: staff accounts (made by the operator or a staff administrator), sign-in and sign-out, a
member's own password, and the dependencies other routers use to know which staff member is calling."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from municipality.intermediate.config import IntermediateSettings
from municipality.intermediate.sign_in import LoginPolicy
from municipality.intermediate.staff.models import StaffMember
from municipality.intermediate.staff.schemas import (
    CurrentSessionOut,
    LoginIn,
    PasswordChangeIn,
    PasswordReset,
    PasswordResetIn,
    SessionOut,
    StaffCreated,
    StaffId,
    StaffIn,
)
from municipality.intermediate.staff.service import (
    OPERATOR,
    authenticate_staff,
    change_password,
    create_staff_account,
    current_session,
    log_in,
    log_out,
    require_staff_administrator,
    reset_password,
)
from services.app import DbSession, RuntimeDep, bearer_token, require_operator, settings_of
from services.problems import Unauthenticated

router = APIRouter(tags=["SCM staff"])


async def current_staff(request: Request, session: DbSession) -> StaffMember:
    return await authenticate_staff(session, bearer_token(request))


CurrentStaff = Annotated[StaffMember, Depends(current_staff)]


async def staff_administrator(request: Request, runtime: RuntimeDep, session: DbSession) -> str:
    """The operator, or a signed-in member of a department whose role administers staff: their id."""
    try:
        require_operator(request, runtime)
    except Unauthenticated:
        member = await authenticate_staff(session, bearer_token(request))
        require_staff_administrator(request.app.state.role_grants, member)
        return member.staff_id
    return OPERATOR


StaffAdministrator = Annotated[str, Depends(staff_administrator)]


@router.post("/staff", response_model=StaffCreated, status_code=status.HTTP_201_CREATED)
async def post_staff(
    body: StaffIn, administrator: StaffAdministrator, session: DbSession, request: Request
) -> StaffCreated:
    """A new account; a generated initial password is shown in this answer only. A 課長 only by the
    operator."""
    return await create_staff_account(session, request.app.state.role_grants, body, created_by=administrator)


@router.put("/staff/{staff_id}/password", response_model=PasswordReset)
async def put_staff_password(
    staff_id: Annotated[StaffId, Path()], body: PasswordResetIn, administrator: StaffAdministrator, session: DbSession
) -> PasswordReset:
    """Set a new password (generated when none is given): unlocks the account, ends its sessions.
    A 課長's or a deputy's only by the operator."""
    return await reset_password(session, staff_id, body, reset_by=administrator)


@router.post("/staff/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def post_own_password(body: PasswordChangeIn, request: Request, runtime: RuntimeDep) -> Response:
    """Change one's own password, giving the current one: this session goes on, the member's other
    sessions end. A wrong current password counts towards the lockout, as at sign-in."""
    policy = LoginPolicy.of(settings_of(runtime, IntermediateSettings))
    await change_password(runtime.database, policy, bearer_token(request), body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/staff/sessions", response_model=SessionOut, status_code=status.HTTP_201_CREATED)
async def post_staff_session(body: LoginIn, runtime: RuntimeDep) -> SessionOut:
    """Sign in: a bearer token for the staff routes, good until `expires_at`."""
    return await log_in(runtime.database, LoginPolicy.of(settings_of(runtime, IntermediateSettings)), body)


@router.get("/staff/sessions/current", response_model=CurrentSessionOut)
async def get_current_session(request: Request, session: DbSession) -> CurrentSessionOut:
    return await current_session(session, bearer_token(request))


@router.delete("/staff/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
async def delete_current_session(request: Request, session: DbSession) -> Response:
    """Sign out."""
    await log_out(session, bearer_token(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
