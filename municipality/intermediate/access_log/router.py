"""HTTP: the security administrator (operator) reads the access log and whether it is intact."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from municipality.intermediate.access_log.service import read_access_log
from services.app import Operator, RuntimeDep

router = APIRouter(tags=["SCM access log"])


class AccessEntryOut(BaseModel):
    seq: int
    at: datetime
    staff_id: str
    department: str
    address_number: str
    procedure_code: str
    item_codes: list[str]
    provider_code: str
    outcome: str


class AccessLogOut(BaseModel):
    intact: bool
    first_broken_entry: int | None
    entries: list[AccessEntryOut]


@router.get("/access-log", response_model=AccessLogOut)
async def get_access_log(
    _operator: Operator, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> AccessLogOut:
    entries, broken = await read_access_log(runtime.database, limit)
    return AccessLogOut(
        intact=broken is None,
        first_broken_entry=broken,
        entries=[AccessEntryOut.model_validate(e, from_attributes=True) for e in entries],
    )
