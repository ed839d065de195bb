"""HTTP: the city's systems push copies."""

from fastapi import APIRouter, Request

from municipality.intermediate.config import IntermediateSettings
from municipality.intermediate.copies.schemas import RegisterCopiesRequest, RegisterCopiesResponse
from municipality.intermediate.copies.service import register_copies
from services.app import DbSession, RuntimeDep, SignedCaller, settings_of
from services.rbac import require_caller

router = APIRouter(tags=["DBM copies"])


@router.post("/copies", response_model=RegisterCopiesResponse)
async def post_copies(
    body: RegisterCopiesRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, request: Request
) -> RegisterCopiesResponse:
    require_caller(
        caller, components={"city"}, institution_code=settings_of(runtime, IntermediateSettings).municipality_code
    )
    registered = await register_copies(session, request.app.state.item_catalogue, body.copies)
    return RegisterCopiesResponse(registered=registered)
