"""HTTP: the broker forwards My Portal's request for a resident's own information (JTK)."""

from fastapi import APIRouter, Request

from municipality.intermediate.provisions.schemas import SealedAnswer
from municipality.intermediate.self_information.schemas import SelfInformationRequest
from municipality.intermediate.self_information.service import answer_self_information
from services.app import DbSession, RuntimeDep, SignedCaller
from services.rbac import require_caller

router = APIRouter(tags=["JTK self-information"])


@router.post("/self-information", response_model=SealedAnswer)
async def post_self_information(
    body: SelfInformationRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, request: Request
) -> SealedAnswer:
    require_caller(caller, components={"broker"}, kinds={"broker"})
    return await answer_self_information(session, runtime, request.app.state.item_catalogue, body)
