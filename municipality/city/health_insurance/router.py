"""HTTP: the 保険年金課's system records national health insurance enrolments (operator)."""

from fastapi import APIRouter

from municipality.city.config import CitySettings
from municipality.city.health_insurance.schemas import RecordEnrollmentsRequest
from municipality.city.health_insurance.service import record_enrollments
from municipality.city.schemas import RecordedOut
from services.app import DbSession, Operator, RuntimeDep, settings_of

router = APIRouter(prefix="/health-insurance", tags=["national health insurance"])


@router.post("/enrollments", response_model=RecordedOut)
async def post_enrollments(
    body: RecordEnrollmentsRequest, _operator: Operator, session: DbSession, runtime: RuntimeDep
) -> RecordedOut:
    copies = await record_enrollments(session, runtime.client, settings_of(runtime, CitySettings), body.enrollments)
    return RecordedOut(recorded=len(body.enrollments), copies_registered=copies)
