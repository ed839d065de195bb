"""HTTP: the registry clerk (operator) registers residents moving in or born."""

from fastapi import APIRouter

from municipality.city.config import CitySettings
from municipality.city.registry.schemas import RegisterResidentsRequest, RegisterResidentsResponse
from municipality.city.registry.service import register_residents
from services.app import DbSession, Operator, RuntimeDep, settings_of

router = APIRouter(tags=["resident registry"])


@router.post("/residents", response_model=RegisterResidentsResponse)
async def post_residents(
    body: RegisterResidentsRequest, _operator: Operator, session: DbSession, runtime: RuntimeDep
) -> RegisterResidentsResponse:
    residents = await register_residents(session, runtime.client, settings_of(runtime, CitySettings), body.residents)
    return RegisterResidentsResponse(residents=residents)
