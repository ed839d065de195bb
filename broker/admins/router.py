"""HTTP: the operator creates administrator accounts; administrators authenticate with their own
token (`Authorization: Bearer …`) for actions that need a named person and a second one."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from broker.admins.models import Administrator
from broker.admins.schemas import AdministratorIn, AdministratorOut, IssuedAdministrator
from broker.admins.service import administrator_for_token, create_administrator, list_administrators
from services.app import DbSession, Operator, bearer_token

router = APIRouter(prefix="/administrators", tags=["administrators"])


async def current_administrator(request: Request, session: DbSession) -> Administrator:
    return await administrator_for_token(session, bearer_token(request))


AdministratorDep = Annotated[Administrator, Depends(current_administrator)]


@router.post("", response_model=IssuedAdministrator, status_code=status.HTTP_201_CREATED)
async def post_administrator(body: AdministratorIn, _operator: Operator, session: DbSession) -> IssuedAdministrator:
    return await create_administrator(session, body)


@router.get("", response_model=list[AdministratorOut])
async def get_administrators(_operator: Operator, session: DbSession) -> list[AdministratorOut]:
    return await list_administrators(session)
