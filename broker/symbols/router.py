"""HTTP: an intermediate server (or My Portal) exchanges acquisition numbers for its symbols."""

from fastapi import APIRouter, Request

from broker.config import BrokerSettings
from broker.symbols.schemas import ObtainSymbolsRequest, ObtainSymbolsResponse
from broker.symbols.service import obtain_symbols
from services.app import DbSession, RuntimeDep, SignedCaller, settings_of
from services.rbac import require_caller

router = APIRouter(tags=["symbols"])


@router.post("/symbols", response_model=ObtainSymbolsResponse)
async def post_symbols(
    body: ObtainSymbolsRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, request: Request
) -> ObtainSymbolsResponse:
    require_caller(caller, components={"intermediate", "portal"})
    symbols = await obtain_symbols(
        session,
        runtime.client,
        settings_of(runtime, BrokerSettings).jlis_url,
        request.app.state.symbol_master_key,
        caller.institution_code,
        body.acquisition_numbers,
    )
    return ObtainSymbolsResponse(symbols=symbols)
