"""HTTP: operators audit provision records; My Portal fetches a resident's own. The provision
log (`/provision-log`, RFC 9162) proves to either of them that a record is logged unaltered."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from broker.provision_records.log import (
    log_consistency,
    log_entries,
    personal_record_inclusion,
    record_inclusion,
    signed_tree_head,
)
from broker.provision_records.schemas import (
    ConsistencyProofOut,
    InclusionProofOut,
    LogEntriesOut,
    PersonalInclusionRequest,
    PersonalRecordsRequest,
    PersonalRecordsResponse,
    ProvisionRecordOut,
    TreeHeadOut,
)
from broker.provision_records.service import list_provision_records, records_for_person
from services.app import DbSession, Operator, RuntimeDep, SignedCaller, require_operator, signed_caller
from services.problems import BadRequest
from services.rbac import require_caller

MAX_ENTRIES_PER_PAGE = 10_000

router = APIRouter(prefix="/provision-records", tags=["provision records"])


@router.get("", response_model=list[ProvisionRecordOut])
async def get_provision_records(
    _operator: Operator, session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[ProvisionRecordOut]:
    return await list_provision_records(session, limit)


@router.post("/search", response_model=PersonalRecordsResponse)
async def search_personal_records(
    body: PersonalRecordsRequest, caller: SignedCaller, session: DbSession, request: Request
) -> PersonalRecordsResponse:
    require_caller(caller, components={"portal"}, kinds={"portal"})
    records = await records_for_person(session, request.app.state.whitelist, caller.institution_code, body.symbol)
    return PersonalRecordsResponse(records=records)


log_router = APIRouter(prefix="/provision-log", tags=["provision log"])


async def require_log_auditor(request: Request, runtime: RuntimeDep) -> None:
    """The operator (bearer token) or My Portal (signed request) may read tree heads."""
    if "signature-input" in request.headers:
        caller = await signed_caller(request, runtime)
        require_caller(caller, components={"portal"}, kinds={"portal"})
    else:
        require_operator(request, runtime)


LogAuditor = Annotated[None, Depends(require_log_auditor)]


@log_router.get("/tree-head", response_model=TreeHeadOut)
async def get_tree_head(_auditor: LogAuditor, runtime: RuntimeDep) -> TreeHeadOut:
    return await signed_tree_head(runtime.database, runtime.keys)


@log_router.get("/inclusion", response_model=InclusionProofOut)
async def get_inclusion(
    _operator: Operator,
    session: DbSession,
    query_id: Annotated[str, Query(min_length=1, max_length=32)],
    tree_size: Annotated[int | None, Query(ge=0)] = None,
) -> InclusionProofOut:
    return await record_inclusion(session, query_id, tree_size)


@log_router.post("/inclusion", response_model=InclusionProofOut)
async def post_personal_inclusion(
    body: PersonalInclusionRequest, caller: SignedCaller, session: DbSession
) -> InclusionProofOut:
    require_caller(caller, components={"portal"}, kinds={"portal"})
    return await personal_record_inclusion(session, caller.institution_code, body.symbol, body.query_id, body.tree_size)


@log_router.get("/consistency", response_model=ConsistencyProofOut)
async def get_consistency(
    _auditor: LogAuditor,
    session: DbSession,
    first: Annotated[int, Query(ge=0)],
    second: Annotated[int, Query(ge=0)],
) -> ConsistencyProofOut:
    return await log_consistency(session, first, second)


@log_router.get("/entries", response_model=LogEntriesOut)
async def get_entries(
    _operator: Operator,
    session: DbSession,
    start: Annotated[int, Query(ge=0)],
    end: Annotated[int, Query(ge=0)],
) -> LogEntriesOut:
    """Leaves [start, end) with their public fields, for an audit of the whole log page by page."""
    if not start <= end <= start + MAX_ENTRIES_PER_PAGE:
        raise BadRequest("range_invalid", f"Need start ≤ end ≤ start + {MAX_ENTRIES_PER_PAGE}; got {start}, {end}.")
    return LogEntriesOut(entries=await log_entries(session, start, end))
