"""HTTP: the broker forwards queries addressed to this city."""

from fastapi import APIRouter

from municipality.intermediate.provisions.schemas import ProvisionRequest, SealedAnswer
from municipality.intermediate.provisions.service import answer_provision
from services.app import DbSession, RuntimeDep, SignedCaller
from services.rbac import require_caller

router = APIRouter(tags=["TKY provisions"])


@router.post("/provisions", response_model=SealedAnswer)
async def post_provision(
    body: ProvisionRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep
) -> SealedAnswer:
    require_caller(caller, components={"broker"}, kinds={"broker"})
    return await answer_provision(session, runtime.directory, body)
