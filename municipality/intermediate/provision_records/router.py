"""HTTP: operators (and auditors with the operator's token) read the city's own provision records."""

from typing import Annotated

from fastapi import APIRouter, Query

from municipality.intermediate.provision_records.schemas import (
    CityProvisionRecordOut,
    PersonRecordsOut,
    PersonRecordsRequest,
)
from municipality.intermediate.provision_records.service import (
    Direction,
    city_provisions_for_person,
    recent_city_provisions,
)
from services.app import DbSession, Operator

router = APIRouter(prefix="/provision-records", tags=["TKM provision records"])


@router.get("", response_model=list[CityProvisionRecordOut])
async def get_city_provision_records(
    _operator: Operator,
    session: DbSession,
    direction: Direction | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CityProvisionRecordOut]:
    records = await recent_city_provisions(session, direction, limit)
    return [CityProvisionRecordOut.model_validate(r, from_attributes=True) for r in records]


@router.post("/search", response_model=PersonRecordsOut)
async def search_city_provision_records(
    body: PersonRecordsRequest, _operator: Operator, session: DbSession
) -> PersonRecordsOut:
    records = await city_provisions_for_person(session, body.address_number)
    return PersonRecordsOut(
        address_number=body.address_number,
        records=[CityProvisionRecordOut.model_validate(r, from_attributes=True) for r in records],
    )
