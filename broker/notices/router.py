"""HTTP: a city's intermediate server hands the broker a sealed notice for a resident's My Portal."""

from fastapi import APIRouter, Request

from broker.notices.schemas import NoticeDelivered, NoticeIn
from broker.notices.service import relay_notice
from services.app import DbSession, RuntimeDep, SignedCaller
from services.rbac import require_caller

router = APIRouter(tags=["notices"])


@router.post("/notices", response_model=NoticeDelivered)
async def post_notice(
    body: NoticeIn, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, request: Request
) -> NoticeDelivered:
    require_caller(caller, components={"intermediate"}, kinds={"municipality"})
    return await relay_notice(session, runtime, request.app.state.symbol_master_key, caller, body)
