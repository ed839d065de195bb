"""Symbol registration requests from the city's integrated address system."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

AddressNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{15}$")]


class SymbolLinkIn(BaseModel):
    address_number: AddressNumber
    acquisition_number: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class ObtainSymbolsRequest(BaseModel):
    links: list[SymbolLinkIn] = Field(min_length=1, max_length=10_000)


class ObtainSymbolsResponse(BaseModel):
    registered: int
