"""HTTP: staff ask other institutions for data (Bearer staff token), for one person or a batch."""

from fastapi import APIRouter, Request

from municipality.intermediate.queries.schemas import (
    StaffBatchQueryAnswer,
    StaffBatchQueryIn,
    StaffQueryAnswer,
    StaffQueryIn,
)
from municipality.intermediate.queries.service import batch_query_other_institution, query_other_institution
from municipality.intermediate.staff.router import CurrentStaff
from services.app import DbSession, RuntimeDep

router = APIRouter(tags=["SKI queries"])


@router.post("/queries", response_model=StaffQueryAnswer)
async def post_query(
    body: StaffQueryIn, staff: CurrentStaff, session: DbSession, runtime: RuntimeDep, request: Request
) -> StaffQueryAnswer:
    return await query_other_institution(session, runtime, request.app.state.role_grants, staff, body)


@router.post("/queries/batch", response_model=StaffBatchQueryAnswer)
async def post_batch_query(
    body: StaffBatchQueryIn, staff: CurrentStaff, session: DbSession, runtime: RuntimeDep, request: Request
) -> StaffBatchQueryAnswer:
    """Up to 1,000 persons by address number: a result per person, in order; each is logged."""
    return await batch_query_other_institution(session, runtime, request.app.state.role_grants, staff, body)
