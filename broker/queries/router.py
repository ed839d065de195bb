"""HTTP: an intermediate server sends a query, for one person or a batch; the broker relays the
sealed answers. My Portal sends a single query too, for a resident's own information (JTK): the
whitelist decides what each requester may ask (its row for the portal names only 自己情報提供)."""

from fastapi import APIRouter

from broker.queries.schemas import BatchQueryAnswer, BatchQueryIn, QueryAnswer, QueryIn
from broker.queries.service import relay_batch, relay_query
from broker.whitelist.dependencies import WhitelistInForce
from services.app import DbSession, RuntimeDep, SignedCaller
from services.rbac import require_caller

router = APIRouter(tags=["queries"])


@router.post("/queries", response_model=QueryAnswer)
async def post_query(
    body: QueryIn, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, whitelist: WhitelistInForce
) -> QueryAnswer:
    require_caller(caller, components={"intermediate", "portal"})
    return await relay_query(session, runtime, whitelist, caller, body)


@router.post("/queries/batch", response_model=BatchQueryAnswer)
async def post_batch_query(
    body: BatchQueryIn, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, whitelist: WhitelistInForce
) -> BatchQueryAnswer:
    """Up to 1,000 persons, one procedure, provider and item list: a result per person, in order."""
    require_caller(caller, components={"intermediate"})
    return await relay_batch(session, runtime, whitelist, caller, body)
