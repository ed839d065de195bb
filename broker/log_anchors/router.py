"""HTTP: intermediate servers anchor their access log's signed tree head; the operator, or the
institution itself, reads the anchors back for an audit."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from broker.log_anchors.schemas import AnchorIn, AnchorOut, LogName
from broker.log_anchors.service import anchor_tree_head, list_anchors
from services.app import DbSession, RuntimeDep, SignedCaller, require_operator, signed_caller
from services.rbac import require_caller

router = APIRouter(prefix="/log-anchors", tags=["log anchors"])


@router.post("", response_model=AnchorOut, status_code=status.HTTP_201_CREATED)
async def post_anchor(body: AnchorIn, caller: SignedCaller, runtime: RuntimeDep) -> AnchorOut:
    require_caller(caller, components={"intermediate"})
    return await anchor_tree_head(runtime.database, runtime.directory, caller, body)


@router.get("", response_model=list[AnchorOut])
async def get_anchors(
    request: Request,
    runtime: RuntimeDep,
    session: DbSession,
    institution: Annotated[str, Query(min_length=1, max_length=32)],
    log: Annotated[LogName, Query()],
) -> list[AnchorOut]:
    """For the operator (bearer token) or the institution itself (a signed request)."""
    if "signature-input" in request.headers:
        caller = await signed_caller(request, runtime)
        require_caller(caller, components={"intermediate", "city"}, institution_code=institution)
    else:
        require_operator(request, runtime)
    return await list_anchors(session, institution, log)
