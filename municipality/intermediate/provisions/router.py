"""HTTP: the broker forwards queries addressed to this city, for one person or a batch."""

from fastapi import APIRouter, Request

from municipality.intermediate.provisions.schemas import (
    BatchProvisionRequest,
    BatchSealedAnswer,
    ProvisionRequest,
    SealedAnswer,
)
from municipality.intermediate.provisions.service import answer_provision, answer_provisions
from services.app import DbSession, RuntimeDep, SignedCaller
from services.rbac import require_caller

router = APIRouter(tags=["TKY provisions"])


@router.post("/provisions", response_model=SealedAnswer)
async def post_provision(
    body: ProvisionRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, request: Request
) -> SealedAnswer:
    require_caller(caller, components={"broker"}, kinds={"broker"})
    return await answer_provision(session, runtime, request.app.state.item_catalogue, body)


@router.post("/provisions/batch", response_model=BatchSealedAnswer)
async def post_provisions(
    body: BatchProvisionRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, request: Request
) -> BatchSealedAnswer:
    """One call for many persons: an answer per person, each sealed on its own, in order."""
    require_caller(caller, components={"broker"}, kinds={"broker"})
    return await answer_provisions(session, runtime, request.app.state.item_catalogue, body)
