"""HTTP: the security administrator (operator) reads the access log and whether it is intact,
downloads its leaves for an audit, and has its signed tree head anchored at the broker now."""

from typing import Annotated

from fastapi import APIRouter, Query

from municipality.intermediate.access_log.anchors import anchor_access_log, head_out, signed_tree_head
from municipality.intermediate.access_log.schemas import (
    AccessEntryOut,
    AccessLogHeadOut,
    AccessLogOut,
    LoggedEntriesOut,
    LoggedEntryOut,
)
from municipality.intermediate.access_log.service import entries_between, read_access_log
from services.app import DbSession, Operator, RuntimeDep
from services.problems import BadRequest

MAX_ENTRIES_PER_PAGE = 10_000

router = APIRouter(tags=["SCM access log"])


@router.get("/access-log", response_model=AccessLogOut)
async def get_access_log(
    _operator: Operator, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> AccessLogOut:
    entries, intact, broken = await read_access_log(runtime.database, limit)
    return AccessLogOut(
        intact=intact,
        first_broken_entry=broken,
        entries=[AccessEntryOut.model_validate(e, from_attributes=True) for e in entries],
    )


@router.get("/access-log/entries", response_model=LoggedEntriesOut)
async def get_logged_entries(
    _operator: Operator,
    session: DbSession,
    start: Annotated[int, Query(ge=0)],
    end: Annotated[int, Query(ge=0)],
) -> LoggedEntriesOut:
    """Leaves [start, end), page by page."""
    if not start <= end <= start + MAX_ENTRIES_PER_PAGE:
        raise BadRequest("range_invalid", f"Need start ≤ end ≤ start + {MAX_ENTRIES_PER_PAGE}; got {start}, {end}.")
    rows = await entries_between(session, start, end)
    return LoggedEntriesOut(entries=[LoggedEntryOut.model_validate(row) for row in rows])


@router.get("/access-log/tree-head", response_model=AccessLogHeadOut)
async def get_tree_head(_operator: Operator, runtime: RuntimeDep) -> AccessLogHeadOut:
    return AccessLogHeadOut.model_validate(head_out(await signed_tree_head(runtime)))


@router.post("/access-log/anchor", response_model=AccessLogHeadOut)
async def post_anchor(_operator: Operator, runtime: RuntimeDep) -> AccessLogHeadOut:
    """Sign the current head and anchor it at the broker now (502 with the broker's reason if not)."""
    return AccessLogHeadOut.model_validate(await anchor_access_log(runtime))
