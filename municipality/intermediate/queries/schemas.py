"""A staff member's query for another institution's data, and what comes back; the batch form
asks one provider the same items of many persons (e.g. a yearly tax check of all recipients)."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from municipality.intermediate.copies.schemas import ItemCode, Scalar
from municipality.intermediate.symbols.schemas import AddressNumber

ProviderCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,32}$")]
MAX_BATCH_PERSONS = 1000


class StaffQueryIn(BaseModel):
    address_number: AddressNumber
    procedure_code: ItemCode
    provider_code: ProviderCode
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)


class ProvidedItem(BaseModel):
    item_code: str
    period: str
    value: Scalar
    as_of: date


class StaffQueryAnswer(BaseModel):
    query_id: str
    provider_code: str
    whitelist_row: str
    items: list[ProvidedItem]
    missing_items: list[str]


class StaffBatchQueryIn(BaseModel):
    """Up to 1,000 persons by address number, each once; one procedure, provider and item list."""

    address_numbers: list[AddressNumber] = Field(min_length=1, max_length=MAX_BATCH_PERSONS)
    procedure_code: ItemCode
    provider_code: ProviderCode
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)

    @field_validator("address_numbers")
    @classmethod
    def _each_person_once(cls, address_numbers: list[str]) -> list[str]:
        if len(set(address_numbers)) != len(address_numbers):
            raise ValueError("each address number may appear only once in a batch")
        return address_numbers


class StaffPersonResult(BaseModel):
    """One person's part: the opened items, or the problem (the query id is absent when the
    query never left the city)."""

    address_number: str
    query_id: str | None
    outcome: Literal["provided", "refused", "failed"]
    items: list[ProvidedItem] | None = None
    missing_items: list[str] | None = None
    problem: dict[str, Any] | None = None


class StaffBatchQueryAnswer(BaseModel):
    provider_code: str
    whitelist_row: str | None  # None when no person's query reached the broker
    results: list[StaffPersonResult]  # in the order of `address_numbers`
