"""HTTP: staff ask other institutions for data (Bearer staff token)."""

from fastapi import APIRouter, Request

from municipality.intermediate.queries.schemas import StaffQueryAnswer, StaffQueryIn
from municipality.intermediate.queries.service import query_other_institution
from municipality.intermediate.staff.router import CurrentStaff
from services.app import DbSession, RuntimeDep

router = APIRouter(tags=["SKI queries"])


@router.post("/queries", response_model=StaffQueryAnswer)
async def post_query(
    body: StaffQueryIn, staff: CurrentStaff, session: DbSession, runtime: RuntimeDep, request: Request
) -> StaffQueryAnswer:
    return await query_other_institution(session, runtime, request.app.state.role_grants, staff, body)
