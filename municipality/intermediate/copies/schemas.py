"""DBM requests and answers: a batch of copies (all-or-nothing), batch records, the staleness
view and a copy's history."""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from municipality.intermediate.symbols.schemas import AddressNumber

ItemCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]+\.[a-z_]+$")]
SourceCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,64}$")]
Scalar = int | str | bool


class CopyIn(BaseModel):
    """One row of a batch. Rows are checked against the catalogue by the service (not here), so
    that a bad batch is answered with one report covering every row."""

    address_number: AddressNumber
    item_code: ItemCode
    period: str = Field(min_length=1, max_length=16, description="tax year YYYY, month YYYY-MM or date YYYY-MM-DD")
    value: Scalar
    as_of: date = Field(description="the source system's date for the value")


class RegisterCopiesRequest(BaseModel):
    source: SourceCode = Field(description="the pushing system, one of the catalogue's sources")
    expected_rows: int | None = Field(
        default=None, ge=1, description="how many rows the source meant to send; a batch with fewer is refused"
    )
    copies: list[Any] = Field(min_length=1, description="rows shaped like CopyIn")

    model_config = {"json_schema_extra": {"properties": {"copies": {"items": CopyIn.model_json_schema()}}}}


class RegisterCopiesResponse(BaseModel):
    batch_id: int
    registered: int
    inserted: int
    updated: int
    unchanged: int
    registered_at: datetime


class CopyBatchOut(BaseModel):
    batch_id: int
    source: str
    item_codes: list[str]
    rows: int
    inserted: int
    updated: int
    unchanged: int
    registered_at: datetime


class ItemFreshness(BaseModel):
    item_code: str
    name: str
    source: str
    schedule: str
    last_registered_at: datetime | None
    last_batch_id: int | None
    rows: int | None = Field(description="rows of the item in its last batch")
    latest_as_of: date | None = Field(description="the newest source date in the item's last batch")
    due_by: datetime | None = Field(description="when the item becomes overdue (null: on change only)")
    overdue: bool


class FreshnessOut(BaseModel):
    checked_at: datetime
    overdue_items: list[str]
    items: list[ItemFreshness]


class CopyHistoryRequest(BaseModel):
    address_number: AddressNumber
    item_code: ItemCode


class RevisionOut(BaseModel):
    """A value that was replaced, and by which batch."""

    value: Scalar
    as_of: date
    registered_at: datetime
    batch_id: int
    replaced_at: datetime
    replaced_by_batch_id: int


class PeriodHistoryOut(BaseModel):
    period: str
    value: Scalar
    as_of: date
    registered_at: datetime
    batch_id: int
    revisions: list[RevisionOut] = Field(description="earlier values, oldest first")


class CopyHistoryOut(BaseModel):
    address_number: str
    item_code: str
    periods: list[PeriodHistoryOut]
