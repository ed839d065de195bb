"""HTTP: the city's integrated address system hands over acquisition numbers."""

from fastapi import APIRouter

from municipality.intermediate.config import IntermediateSettings
from municipality.intermediate.symbols.schemas import ObtainSymbolsRequest, ObtainSymbolsResponse
from municipality.intermediate.symbols.service import obtain_symbols
from services.app import DbSession, RuntimeDep, SignedCaller, settings_of
from services.rbac import require_caller

router = APIRouter(tags=["FGU symbols"])


@router.post("/symbols", response_model=ObtainSymbolsResponse)
async def post_symbols(
    body: ObtainSymbolsRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep
) -> ObtainSymbolsResponse:
    require_caller(
        caller, components={"city"}, institution_code=settings_of(runtime, IntermediateSettings).municipality_code
    )
    registered = await obtain_symbols(session, runtime.client, runtime.settings.broker_url, body.links)
    return ObtainSymbolsResponse(registered=registered)
