"""HTTP: the logged-in resident's own information at one city (自己情報提供)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from portal.own_information.schemas import OwnInformationOut
from portal.own_information.service import my_own_information
from portal.sessions.service import symbol_for_session
from services.app import DbSession, RuntimeDep, bearer_token

router = APIRouter(prefix="/api/me", tags=["own information"])

CityCode = Annotated[str, Query(pattern=r"^[0-9]{6}$", description="the city's 団体コード, e.g. 132110")]


@router.get("/own-information", response_model=OwnInformationOut)
async def get_my_own_information(
    institution: CityCode, request: Request, session: DbSession, runtime: RuntimeDep
) -> OwnInformationOut:
    symbol = await symbol_for_session(session, bearer_token(request))
    return await my_own_information(runtime, symbol, institution)
