"""DBM requests and answers: a batch of copies (all-or-nothing), batch records, the staleness
view and a copy's history."""

import json
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
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
    copies: list[Any] = Field(
        min_length=1, description="rows shaped like CopyIn (CopyRow objects when the body was well-formed)"
    )

    model_config = {"json_schema_extra": {"properties": {"copies": {"items": CopyIn.model_json_schema()}}}}


class CopyRow(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A row of a well-formed batch body, decoded straight from the JSON (see `decode_copy_batch`).
    It holds exactly CopyIn's five fields with JSON's own types; whether they fit the catalogue is
    the service's check. Not tracked by the garbage collector: a batch makes 150,000 of them."""

    address_number: str
    item_code: str
    period: str
    value: int | str | bool
    as_of: str


class _CopyBatchBody(msgspec.Struct, forbid_unknown_fields=True):
    source: str
    copies: list[CopyRow]
    expected_rows: int | None = None


_COPY_BATCH = msgspec.json.Decoder(_CopyBatchBody)


def decode_copy_batch(body: bytes) -> Any:
    """The JSON of a POST /copies body, for RegisterCopiesRequest to validate.

    A body of exactly the documented shape is decoded in one pass of compiled code straight into
    CopyRow objects (a whole city's batch is ~20 MB). Anything else (an extra or missing field, a
    float, a lone surrogate, no JSON at all) fails that decoder and is decoded with json.loads
    instead, so that it is validated and reported exactly as any JSON body is: msgspec accepts
    nothing json.loads refuses, and decodes what it accepts to the same values.
    """
    try:
        batch = _COPY_BATCH.decode(body)
    except msgspec.DecodeError:  # also its ValidationError: not the documented shape
        return json.loads(body)
    return {"source": batch.source, "expected_rows": batch.expected_rows, "copies": batch.copies}


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
