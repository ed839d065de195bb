"""HTTP: the registry clerk (operator) registers residents moving in or born."""

from fastapi import APIRouter

from municipality.city.config import CitySettings
from municipality.city.registry.schemas import (
    CardApplication,
    IssuedCardOut,
    NumberChangeIn,
    NumberChangeOut,
    RegisterResidentsRequest,
    RegisterResidentsResponse,
)
from municipality.city.registry.service import change_individual_number, issue_card, register_residents
from services.app import DbSession, Operator, RuntimeDep, settings_of

router = APIRouter(tags=["resident registry"])


@router.post("/residents", response_model=RegisterResidentsResponse)
async def post_residents(
    body: RegisterResidentsRequest, _operator: Operator, session: DbSession, runtime: RuntimeDep
) -> RegisterResidentsResponse:
    residents = await register_residents(session, runtime.client, settings_of(runtime, CitySettings), body.residents)
    return RegisterResidentsResponse(residents=residents)


# Resident codes travel in bodies, never in paths, so that access logs carry none.
@router.post("/number-changes", response_model=NumberChangeOut)
async def post_number_change(
    body: NumberChangeIn, _operator: Operator, session: DbSession, runtime: RuntimeDep
) -> NumberChangeOut:
    settings = settings_of(runtime, CitySettings)
    return await change_individual_number(session, runtime.client, settings, body.resident_code, body.reason)


@router.post("/cards", response_model=IssuedCardOut, status_code=201)
async def post_card(
    body: CardApplication, _operator: Operator, session: DbSession, runtime: RuntimeDep
) -> IssuedCardOut:
    settings = settings_of(runtime, CitySettings)
    return await issue_card(session, runtime.client, settings, body)
