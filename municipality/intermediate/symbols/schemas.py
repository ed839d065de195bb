"""Symbol registration requests from the city's integrated address system, and reissue batches from the broker."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

SymbolText = Annotated[str, StringConstraints(pattern=r"^[A-Z2-7]{32}$")]
AddressNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{15}$")]
ApplicationId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


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
    application_id: ApplicationId  # the city's own application the broker declared the reissue on


class ReissueApplied(BaseModel):
    reissue_id: str
    replaced: int  # symbol links now holding their new symbol
    unmapped: int  # links the broker sent no new symbol for (it never knew those symbols)


class ReissueApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approval_id: int


class ReissueApplicationOut(BaseModel):
    """The application as sent: give `application_id` to the broker's administrators."""

    model_config = ConfigDict(from_attributes=True)
    application_id: str
    approval_id: int
    incident: str
    applied_by: str
    approved_by: str
    sent_at: datetime
    reissue_id: str | None
