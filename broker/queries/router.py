"""HTTP: an intermediate server sends a query; the broker relays the sealed answer."""

from fastapi import APIRouter, Request

from broker.queries.schemas import QueryAnswer, QueryIn
from broker.queries.service import relay_query
from services.app import DbSession, RuntimeDep, SignedCaller
from services.rbac import require_caller

router = APIRouter(tags=["queries"])


@router.post("/queries", response_model=QueryAnswer)
async def post_query(
    body: QueryIn, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, request: Request
) -> QueryAnswer:
    require_caller(caller, components={"intermediate"})
    return await relay_query(session, runtime, request.app.state.whitelist, caller, body)
