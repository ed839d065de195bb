"""HTTP: an intermediate server sends a query; the broker relays the sealed answer."""

from fastapi import APIRouter

from broker.queries.schemas import QueryAnswer, QueryIn
from broker.queries.service import relay_query
from broker.whitelist.dependencies import WhitelistInForce
from services.app import DbSession, RuntimeDep, SignedCaller
from services.rbac import require_caller

router = APIRouter(tags=["queries"])


@router.post("/queries", response_model=QueryAnswer)
async def post_query(
    body: QueryIn, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, whitelist: WhitelistInForce
) -> QueryAnswer:
    require_caller(caller, components={"intermediate"})
    return await relay_query(session, runtime, whitelist, caller, body)
