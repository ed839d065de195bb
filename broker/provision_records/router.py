"""HTTP: operators audit provision records; My Portal fetches a resident's own."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from broker.provision_records.schemas import PersonalRecordsRequest, PersonalRecordsResponse, ProvisionRecordOut
from broker.provision_records.service import list_provision_records, records_for_person
from services.app import DbSession, Operator, SignedCaller
from services.rbac import require_caller

router = APIRouter(prefix="/provision-records", tags=["provision records"])


@router.get("", response_model=list[ProvisionRecordOut])
async def get_provision_records(
    _operator: Operator, session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[ProvisionRecordOut]:
    return await list_provision_records(session, limit)


@router.post("/search", response_model=PersonalRecordsResponse)
async def search_personal_records(
    body: PersonalRecordsRequest, caller: SignedCaller, session: DbSession, request: Request
) -> PersonalRecordsResponse:
    require_caller(caller, components={"portal"}, kinds={"portal"})
    records = await records_for_person(session, request.app.state.whitelist, caller.institution_code, body.symbol)
    return PersonalRecordsResponse(records=records)
