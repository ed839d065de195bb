"""HTTP: the city's integrated address system hands over acquisition numbers; the system
administrators (情報政策課) apply for a reissue on an approval; the broker delivers reissued
symbols in signed batches and then commits the switch."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from municipality.intermediate.config import IntermediateSettings
from municipality.intermediate.staff.router import StaffAdministrator
from municipality.intermediate.staff.service import OPERATOR
from municipality.intermediate.symbols.schemas import (
    ObtainSymbolsRequest,
    ObtainSymbolsResponse,
    ReissueApplicationIn,
    ReissueApplicationOut,
    ReissueApplied,
    ReissueBatch,
    ReissueCommit,
)
from municipality.intermediate.symbols.service import (
    apply_for_reissue,
    apply_reissue,
    obtain_symbols,
    sent_applications,
    stage_reissue_batch,
)
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


@router.post("/symbol-reissue-applications", response_model=ReissueApplicationOut, status_code=status.HTTP_201_CREATED)
async def post_reissue_application(
    body: ReissueApplicationIn, administrator: StaffAdministrator, session: DbSession, runtime: RuntimeDep
) -> ReissueApplicationOut:
    """Send the broker an application for a reissue of all the city's symbols, on an approved
    `symbol_reissue_application` (used up)."""
    requester = None if administrator == OPERATOR else administrator
    return await apply_for_reissue(session, runtime.client, runtime.settings.broker_url, body.approval_id, requester)


@router.get("/symbol-reissue-applications", response_model=list[ReissueApplicationOut])
async def get_reissue_applications(
    _administrator: StaffAdministrator, session: DbSession
) -> list[ReissueApplicationOut]:
    return await sent_applications(session)


ReissueId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("/symbol-reissues/{reissue_id}/batches/{batch_no}")
async def post_reissue_batch(
    reissue_id: ReissueId,
    batch_no: Annotated[int, Path(ge=0, lt=100_000)],
    body: ReissueBatch,
    caller: SignedCaller,
    session: DbSession,
) -> dict[str, int]:
    require_caller(caller, components={"broker"}, kinds={"broker"})
    return {"staged": await stage_reissue_batch(session, reissue_id, batch_no, body)}


@router.post("/symbol-reissues/{reissue_id}/commit", response_model=ReissueApplied)
async def post_reissue_commit(
    reissue_id: ReissueId, body: ReissueCommit, caller: SignedCaller, session: DbSession
) -> ReissueApplied:
    require_caller(caller, components={"broker"}, kinds={"broker"})
    return await apply_reissue(session, reissue_id, body)
