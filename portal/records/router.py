"""HTTP: the logged-in resident's provision records, and the proof that one is logged unaltered."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from portal.records.service import my_provision_records, my_record_proof
from portal.sessions.service import symbol_for_session
from services.app import DbSession, RuntimeDep, bearer_token

router = APIRouter(prefix="/api/me", tags=["provision records"])


@router.get("/provision-records")
async def get_my_provision_records(request: Request, session: DbSession, runtime: RuntimeDep) -> dict[str, Any]:
    symbol = await symbol_for_session(session, bearer_token(request))
    return {"records": await my_provision_records(runtime, symbol)}


@router.get("/provision-records/{query_id}/proof")
async def get_my_record_proof(
    query_id: Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")],
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    symbol = await symbol_for_session(session, bearer_token(request))
    return await my_record_proof(runtime, symbol, query_id)
