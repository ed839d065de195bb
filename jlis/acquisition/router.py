"""HTTP: municipalities ask for acquisition numbers; the broker alone redeems them."""

from fastapi import APIRouter

from jlis.acquisition.schemas import AcquisitionRequest, AcquisitionResponse, RedeemRequest, RedeemResponse
from jlis.acquisition.service import issue_acquisition_numbers, redeem_acquisition_numbers
from jlis.config import JlisSettings
from services.app import DbSession, RuntimeDep, SignedCaller, settings_of
from services.rbac import require_caller

router = APIRouter(tags=["acquisition numbers"])


@router.post("/acquisition-numbers", response_model=AcquisitionResponse)
async def post_acquisition_numbers(
    body: AcquisitionRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep
) -> AcquisitionResponse:
    require_caller(caller, components={"city"}, kinds={"municipality"})
    tickets = await issue_acquisition_numbers(
        session,
        caller.institution_code,
        body.individual_numbers,
        settings_of(runtime, JlisSettings).acquisition_number_ttl_seconds,
        residents_of=caller.institution_code,
        caller=caller.key_id,
    )
    return AcquisitionResponse(acquisition_numbers=tickets)


@router.post("/acquisition-numbers/redeem", response_model=RedeemResponse)
async def post_redeem(body: RedeemRequest, caller: SignedCaller, session: DbSession) -> RedeemResponse:
    require_caller(caller, components={"broker"}, kinds={"broker"})
    persons = await redeem_acquisition_numbers(session, body.for_institution, body.acquisition_numbers)
    return RedeemResponse(persons=persons)
