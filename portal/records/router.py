"""HTTP: the logged-in resident's provision records."""

from typing import Any

from fastapi import APIRouter, Request

from portal.records.service import my_provision_records
from portal.sessions.service import symbol_for_session
from services.app import DbSession, RuntimeDep, bearer_token

router = APIRouter(prefix="/api/me", tags=["provision records"])


@router.get("/provision-records")
async def get_my_provision_records(request: Request, session: DbSession, runtime: RuntimeDep) -> dict[str, Any]:
    symbol = await symbol_for_session(session, bearer_token(request))
    return {"records": await my_provision_records(runtime, symbol)}
