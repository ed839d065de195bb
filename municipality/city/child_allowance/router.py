"""HTTP: the 子育て支援課's system records child allowance decisions (operator)."""

from fastapi import APIRouter

from municipality.city.child_allowance.schemas import RecordRecipientsRequest
from municipality.city.child_allowance.service import record_recipients
from municipality.city.config import CitySettings
from municipality.city.schemas import RecordedOut
from services.app import DbSession, Operator, RuntimeDep, settings_of

router = APIRouter(prefix="/child-allowance", tags=["child allowance"])


@router.post("/recipients", response_model=RecordedOut)
async def post_recipients(
    body: RecordRecipientsRequest, _operator: Operator, session: DbSession, runtime: RuntimeDep
) -> RecordedOut:
    copies = await record_recipients(session, runtime.client, settings_of(runtime, CitySettings), body.recipients)
    return RecordedOut(recorded=len(body.recipients), copies_registered=copies)
