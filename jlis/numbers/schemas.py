"""Requests and answers of individual-number issuance."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

ResidentCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")]
IndividualNumberText = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]


class IssueNumbersRequest(BaseModel):
    resident_codes: list[ResidentCode] = Field(min_length=1, max_length=200_000)


class IssuedNumber(BaseModel):
    resident_code: str
    individual_number: str


class IssueNumbersResponse(BaseModel):
    numbers: list[IssuedNumber]
