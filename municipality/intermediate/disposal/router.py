"""HTTP: the system administrators (情報政策課 staff, or the operator) preview, run and list
disposals; a run needs an approved `disposal` approval."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from municipality.intermediate.disposal.schemas import DisposalIn, DisposalPlanOut, DisposalRecordOut
from municipality.intermediate.disposal.service import disposal_records, dispose, preview_disposal
from municipality.intermediate.staff.router import StaffAdministrator
from municipality.intermediate.staff.service import OPERATOR
from services.app import DbSession

router = APIRouter(tags=["SYM disposal"])


@router.get("/disposals/preview", response_model=DisposalPlanOut)
async def get_disposal_preview(
    _administrator: StaffAdministrator, session: DbSession, request: Request
) -> DisposalPlanOut:
    """What a disposal today would remove; nothing is changed."""
    return await preview_disposal(session, request.app.state.item_catalogue)


@router.post("/disposals", response_model=DisposalRecordOut, status_code=status.HTTP_201_CREATED)
async def post_disposal(
    body: DisposalIn, administrator: StaffAdministrator, session: DbSession, request: Request
) -> DisposalRecordOut:
    """Delete the expired copies and revisions on an approved `disposal` approval (used up)."""
    requester = None if administrator == OPERATOR else administrator
    return await dispose(session, request.app.state.item_catalogue, body.approval_id, administrator, requester)


@router.get("/disposals", response_model=list[DisposalRecordOut])
async def get_disposals(
    _administrator: StaffAdministrator, session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[DisposalRecordOut]:
    """Disposal records, newest first."""
    return await disposal_records(session, limit)
