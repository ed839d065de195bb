"""HTTP: a municipality's integrated address system asks for its residents' numbers."""

from fastapi import APIRouter, Request

from jlis.numbers.schemas import IssueNumbersRequest, IssueNumbersResponse
from jlis.numbers.service import issue_individual_numbers
from services.app import DbSession, SignedCaller
from services.rbac import require_caller

router = APIRouter(tags=["individual numbers"])


@router.post("/individual-numbers", response_model=IssueNumbersResponse)
async def post_individual_numbers(
    body: IssueNumbersRequest, caller: SignedCaller, session: DbSession, request: Request
) -> IssueNumbersResponse:
    require_caller(caller, components={"city"}, kinds={"municipality"})
    numbers = await issue_individual_numbers(
        session, request.app.state.number_cipher, caller.institution_code, body.resident_codes
    )
    return IssueNumbersResponse(numbers=numbers)
