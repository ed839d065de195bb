"""HTTP: operators enrol institutions and announce their next keys; anyone may read the public
directory of keys."""

from datetime import timedelta

from fastapi import APIRouter, status

from broker.config import BrokerSettings
from broker.registry.schemas import ComponentName, InstitutionIn, InstitutionOut, KeyAnnouncement, KeyGenerationOut
from broker.registry.service import (
    announce_key,
    find_key,
    get_institution,
    list_institutions,
    list_keys,
    register_institution,
)
from services.app import DbSession, Operator, RuntimeDep, settings_of
from services.db import utc_now
from services.problems import NotFound
from services.signing import RegisteredKey

router = APIRouter(prefix="/registry", tags=["registry"])


def _overlap(runtime: RuntimeDep) -> timedelta:
    return timedelta(seconds=settings_of(runtime, BrokerSettings).key_overlap_seconds)


@router.post("/institutions", response_model=InstitutionOut)
async def post_institution(body: InstitutionIn, _operator: Operator, session: DbSession) -> InstitutionOut:
    return await register_institution(session, body)


@router.get("/institutions", response_model=list[InstitutionOut])
async def get_institutions(session: DbSession) -> list[InstitutionOut]:
    return await list_institutions(session)


@router.get("/institutions/{code}", response_model=InstitutionOut)
async def get_one_institution(code: str, session: DbSession) -> InstitutionOut:
    return await get_institution(session, code)


@router.post(
    "/institutions/{code}/components/{component}/keys",
    response_model=KeyGenerationOut,
    status_code=status.HTTP_201_CREATED,
)
async def post_component_key(
    code: str,
    component: ComponentName,
    body: KeyAnnouncement,
    _operator: Operator,
    session: DbSession,
    runtime: RuntimeDep,
) -> KeyGenerationOut:
    return await announce_key(session, code, component, body, utc_now(), _overlap(runtime))


@router.get("/institutions/{code}/components/{component}/keys", response_model=list[KeyGenerationOut])
async def get_component_keys(
    code: str, component: ComponentName, session: DbSession, runtime: RuntimeDep
) -> list[KeyGenerationOut]:
    return await list_keys(session, code, component, utc_now(), _overlap(runtime))


@router.get("/keys/{key_id}", response_model=RegisteredKey)
async def get_key(key_id: str, session: DbSession, runtime: RuntimeDep) -> RegisteredKey:
    registered = await find_key(session, key_id, utc_now(), _overlap(runtime))
    if registered is None:
        raise NotFound("unknown_key", f"No component key {key_id} is in force.")
    return registered
