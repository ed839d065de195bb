"""Copy registration requests (one batch is all-or-nothing)."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from municipality.intermediate.symbols.schemas import AddressNumber

ItemCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]+\.[a-z_]+$")]
Scalar = int | str | bool


class CopyIn(BaseModel):
    address_number: AddressNumber
    item_code: ItemCode
    period: str = Field(min_length=1, max_length=16)
    value: Scalar
    as_of: date


class RegisterCopiesRequest(BaseModel):
    copies: list[CopyIn] = Field(min_length=1, max_length=500_000)


class RegisterCopiesResponse(BaseModel):
    registered: int
