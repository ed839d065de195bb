"""HTTP: operators enrol institutions; anyone may read the public directory of keys."""

from fastapi import APIRouter

from broker.registry.schemas import InstitutionIn, InstitutionOut
from broker.registry.service import find_key, get_institution, list_institutions, register_institution
from services.app import DbSession, Operator
from services.problems import NotFound
from services.signing import RegisteredKey

router = APIRouter(prefix="/registry", tags=["registry"])


@router.post("/institutions", response_model=InstitutionOut)
async def post_institution(body: InstitutionIn, _operator: Operator, session: DbSession) -> InstitutionOut:
    return await register_institution(session, body)


@router.get("/institutions", response_model=list[InstitutionOut])
async def get_institutions(session: DbSession) -> list[InstitutionOut]:
    return await list_institutions(session)


@router.get("/institutions/{code}", response_model=InstitutionOut)
async def get_one_institution(code: str, session: DbSession) -> InstitutionOut:
    return await get_institution(session, code)


@router.get("/keys/{key_id}", response_model=RegisteredKey)
async def get_key(key_id: str, session: DbSession) -> RegisteredKey:
    registered = await find_key(session, key_id)
    if registered is None:
        raise NotFound("unknown_key", f"No component is registered with key {key_id}.")
    return registered
