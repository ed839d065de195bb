"""A staff member's query for another institution's data, and what comes back."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from municipality.intermediate.copies.schemas import ItemCode, Scalar
from municipality.intermediate.symbols.schemas import AddressNumber


class StaffQueryIn(BaseModel):
    address_number: AddressNumber
    procedure_code: ItemCode
    provider_code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,32}$")]
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
