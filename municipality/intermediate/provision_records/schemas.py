"""The city's own provision records as operators read them: item codes, never values."""

from datetime import date, datetime

from pydantic import BaseModel

from municipality.intermediate.symbols.schemas import AddressNumber


class CityProvisionRecordOut(BaseModel):
    seq: int
    direction: str  # provided | requested
    query_id: str | None
    at: datetime
    requester_code: str
    provider_code: str
    procedure_code: str
    item_codes: list[str]
    whitelist_row: str | None
    whitelist_version: str | None
    address_number: str | None
    outcome: str
    outcome_code: str
    provided_items: list[str]
    missing_items: list[str]
    oldest_as_of: date | None
    staff_id: str | None


class PersonRecordsRequest(BaseModel):
    """By address number in the body, so it never appears in a URL or a server's access log."""

    address_number: AddressNumber


class PersonRecordsOut(BaseModel):
    address_number: str
    records: list[CityProvisionRecordOut]  # newest first
