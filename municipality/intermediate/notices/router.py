"""HTTP: staff send a notice (お知らせ) to a resident's My Portal; the operator reads the city's record."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from municipality.intermediate.notices.schemas import NoticeIn, NoticeSent, SentNoticeOut
from municipality.intermediate.notices.service import send_notice, sent_notices
from municipality.intermediate.staff.router import CurrentStaff
from services.app import DbSession, Operator, RuntimeDep

router = APIRouter(tags=["OSR notices"])


@router.post("/notices", response_model=NoticeSent, status_code=status.HTTP_201_CREATED)
async def post_notice(
    body: NoticeIn, staff: CurrentStaff, session: DbSession, runtime: RuntimeDep, request: Request
) -> NoticeSent:
    """Delivered to My Portal through the broker (to wait there for a resident who has never logged
    in), or refused."""
    return await send_notice(session, runtime, request.app.state.role_grants, staff, body)


@router.get("/notices", response_model=list[SentNoticeOut])
async def get_notices(
    _operator: Operator, session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[SentNoticeOut]:
    """The newest notices sent, delivered or not: who sent them to whom and when, never their text."""
    return await sent_notices(session, limit)
