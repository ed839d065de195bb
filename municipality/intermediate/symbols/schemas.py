"""Symbol registration requests from the city's integrated address system, and reissue batches from the broker."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

SymbolText = Annotated[str, StringConstraints(pattern=r"^[A-Z2-7]{32}$")]
AddressNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{15}$")]


class SymbolLinkIn(BaseModel):
    address_number: AddressNumber
    acquisition_number: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class ObtainSymbolsRequest(BaseModel):
    links: list[SymbolLinkIn] = Field(min_length=1, max_length=10_000)


class ObtainSymbolsResponse(BaseModel):
    registered: int


class SymbolChange(BaseModel):
    old_symbol: SymbolText
    new_symbol: SymbolText


class ReissueBatch(BaseModel):
    """One signed batch of a reissue, as the broker delivers it."""

    batches: int = Field(ge=1, le=100_000)
    mappings: list[SymbolChange] = Field(max_length=10_000)


class ReissueCommit(BaseModel):
    batches: int = Field(ge=1, le=100_000)
    mappings: int = Field(ge=0)


class ReissueApplied(BaseModel):
    reissue_id: str
    replaced: int  # symbol links now holding their new symbol
    unmapped: int  # links the broker sent no new symbol for (it never knew those symbols)
