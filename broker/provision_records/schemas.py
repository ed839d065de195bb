"""Provision records as operators and residents see them."""

from datetime import datetime

from pydantic import BaseModel

from broker.symbols.schemas import SymbolText


class ProvisionRecordOut(BaseModel):
    query_id: str
    requested_at: datetime
    requester_code: str
    provider_code: str
    procedure_code: str
    item_codes: list[str]
    provider_symbol: str | None
    whitelist_version: str
    whitelist_row: str | None
    outcome: str
    outcome_code: str


class NamedCode(BaseModel):
    code: str
    name: str


class PersonalRecordOut(BaseModel):
    """What a resident sees in My Portal: names, not symbols."""

    query_id: str
    requested_at: datetime
    requester: NamedCode
    provider: NamedCode
    procedure: NamedCode
    items: list[NamedCode]
    outcome: str
    outcome_code: str


class PersonalRecordsRequest(BaseModel):
    symbol: SymbolText


class PersonalRecordsResponse(BaseModel):
    records: list[PersonalRecordOut]
