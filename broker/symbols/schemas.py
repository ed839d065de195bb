"""Symbol acquisition requests and answers."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

AcquisitionNumberText = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
SymbolText = Annotated[str, StringConstraints(pattern=r"^[A-Z2-7]{32}$")]


class ObtainSymbolsRequest(BaseModel):
    acquisition_numbers: list[AcquisitionNumberText] = Field(min_length=1, max_length=10_000)


class ObtainSymbolsResponse(BaseModel):
    symbols: list[str]
