"""HTTP: a municipality's integrated address system issues, looks up, transfers and changes
its residents' numbers. No endpoint lists numbers."""

import json

from fastapi import APIRouter, Request, Response

from jlis.numbers.change import change_individual_number
from jlis.numbers.schemas import (
    IssueNumbersRequest,
    IssueNumbersResponse,
    LookupRequest,
    LookupResponse,
    NumberChangeRequest,
    NumberChangeResponse,
    TransferRequest,
    TransferResponse,
)
from jlis.numbers.service import (
    issue_individual_numbers,
    look_up_individual_number,
    transfer_residence,
)
from services.app import DbSession, RuntimeDep, SignedCaller
from services.rbac import require_caller

router = APIRouter(tags=["individual numbers"])


@router.post("/individual-numbers", response_model=IssueNumbersResponse)
async def post_individual_numbers(
    body: IssueNumbersRequest, caller: SignedCaller, session: DbSession, request: Request
) -> Response:
    require_caller(caller, components={"city"}, kinds={"municipality"})
    outcome = await issue_individual_numbers(
        session,
        request.app.state.number_key,
        caller.key_id,
        caller.institution_code,
        body.resident_codes,
        all_or_nothing=body.all_or_nothing,
    )
    # A whole city's answer is built once as JSON rather than as 150,000 validated models.
    answer = {
        "all_or_nothing": body.all_or_nothing,
        "issued": len(outcome.numbers),
        "numbers": [
            {"index": index, "resident_code": code, "individual_number": number}
            for index, code, number in outcome.numbers
        ],
        "rejected": [item.model_dump() for item in outcome.rejected],
    }
    return Response(json.dumps(answer, ensure_ascii=False), media_type="application/json")


@router.post("/residence-transfers", response_model=TransferResponse)
async def post_residence_transfers(body: TransferRequest, caller: SignedCaller, session: DbSession) -> TransferResponse:
    require_caller(caller, components={"city"}, kinds={"municipality"})
    moved = await transfer_residence(session, caller.key_id, caller.institution_code, body.transfers)
    return TransferResponse(transferred=moved)


@router.post("/individual-numbers/lookup", response_model=LookupResponse)
async def post_lookup(
    body: LookupRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep
) -> LookupResponse:
    require_caller(caller, components={"city"}, kinds={"municipality"})
    number = await look_up_individual_number(
        session, runtime.database, caller.key_id, caller.institution_code, body.resident_code
    )
    return LookupResponse(resident_code=body.resident_code, individual_number=number)


@router.post("/individual-numbers/changes", response_model=NumberChangeResponse)
async def post_number_change(
    body: NumberChangeRequest, caller: SignedCaller, session: DbSession, runtime: RuntimeDep, request: Request
) -> NumberChangeResponse:
    require_caller(caller, components={"city"}, kinds={"municipality"})
    new_number, revoked_at, certificates_revoked = await change_individual_number(
        session,
        runtime.database,
        request.app.state.number_key,
        caller.key_id,
        caller.institution_code,
        body.individual_number,
        body.reason,
    )
    return NumberChangeResponse(
        individual_number=new_number,
        previous_number_revoked_at=revoked_at.isoformat(),
        certificates_revoked=certificates_revoked,
    )
