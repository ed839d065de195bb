"""HTTP: the tax department (operator) records assessments, which flow to the copies."""

from fastapi import APIRouter

from municipality.city.config import CitySettings
from municipality.city.tax.schemas import RegisterAssessmentsRequest, RegisterAssessmentsResponse
from municipality.city.tax.service import register_assessments
from services.app import DbSession, Operator, RuntimeDep, settings_of

router = APIRouter(prefix="/tax", tags=["resident tax"])


@router.post("/assessments", response_model=RegisterAssessmentsResponse)
async def post_assessments(
    body: RegisterAssessmentsRequest, _operator: Operator, session: DbSession, runtime: RuntimeDep
) -> RegisterAssessmentsResponse:
    registered = await register_assessments(
        session, runtime.client, settings_of(runtime, CitySettings), body.assessments
    )
    return RegisterAssessmentsResponse(assessments=len(body.assessments), copies_registered=registered)
