"""HTTP: the broker delivers a city's notice (お知らせ); the logged-in resident reads their notices."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from portal.notices.schemas import DeliveredNotice, NoticeReceived, NoticesOut
from portal.notices.service import mark_read, my_notices, receive_notice
from portal.sessions.service import symbol_for_session
from services.app import DbSession, RuntimeDep, SignedCaller, bearer_token
from services.rbac import require_caller

router = APIRouter(tags=["notices"])


@router.post("/notices", response_model=NoticeReceived, status_code=status.HTTP_201_CREATED)
async def post_notice(
    body: DeliveredNotice, caller: SignedCaller, session: DbSession, runtime: RuntimeDep
) -> NoticeReceived:
    require_caller(caller, components={"broker"}, kinds={"broker"})
    return await receive_notice(session, runtime, body)


@router.get("/api/me/notices", response_model=NoticesOut)
async def get_my_notices(request: Request, session: DbSession, runtime: RuntimeDep) -> NoticesOut:
    symbol = await symbol_for_session(session, bearer_token(request))
    return NoticesOut(notices=await my_notices(session, runtime, symbol))


@router.post("/api/me/notices/{notice_id}/read", status_code=status.HTTP_204_NO_CONTENT)
async def post_notice_read(
    notice_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], request: Request, session: DbSession
) -> Response:
    symbol = await symbol_for_session(session, bearer_token(request))
    await mark_read(session, symbol, notice_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
