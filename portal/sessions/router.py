"""HTTP: log in with a J-LIS assertion."""

from fastapi import APIRouter

from portal.config import PortalSettings
from portal.sessions.schemas import LoginRequest, SessionOut
from portal.sessions.service import open_session
from services.app import DbSession, RuntimeDep, settings_of

router = APIRouter(prefix="/api", tags=["sessions"])


@router.post("/session", response_model=SessionOut, status_code=201)
async def post_session(body: LoginRequest, session: DbSession, runtime: RuntimeDep) -> SessionOut:
    return await open_session(session, runtime, settings_of(runtime, PortalSettings), body.assertion)
