"""HTTP: the 生活福祉課's system records protection decisions (operator)."""

from fastapi import APIRouter

from municipality.city.config import CitySettings
from municipality.city.schemas import RecordedOut
from municipality.city.welfare.schemas import RecordCasesRequest
from municipality.city.welfare.service import record_cases
from services.app import DbSession, Operator, RuntimeDep, settings_of

router = APIRouter(prefix="/welfare", tags=["welfare"])


@router.post("/cases", response_model=RecordedOut)
async def post_cases(
    body: RecordCasesRequest, _operator: Operator, session: DbSession, runtime: RuntimeDep
) -> RecordedOut:
    copies = await record_cases(session, runtime.client, settings_of(runtime, CitySettings), body.cases)
    return RecordedOut(recorded=len(body.cases), copies_registered=copies)
