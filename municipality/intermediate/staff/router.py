"""HTTP: the security administrator (operator) enrols staff; dependencies for staff routes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from municipality.intermediate.staff.models import StaffMember
from municipality.intermediate.staff.schemas import StaffCreated, StaffIn
from municipality.intermediate.staff.service import authenticate_staff, enrol_staff_member
from services.app import DbSession, Operator, bearer_token

router = APIRouter(tags=["SCM staff"])


@router.post("/staff", response_model=StaffCreated, status_code=201)
async def post_staff(body: StaffIn, _operator: Operator, session: DbSession, request: Request) -> StaffCreated:
    return await enrol_staff_member(session, request.app.state.role_grants, body)


async def current_staff(request: Request, session: DbSession) -> StaffMember:
    return await authenticate_staff(session, bearer_token(request))


CurrentStaff = Annotated[StaffMember, Depends(current_staff)]
