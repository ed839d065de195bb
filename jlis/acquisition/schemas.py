"""Requests and answers for acquisition numbers."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from jlis.numbers.schemas import IndividualNumberText

AcquisitionNumberText = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class AcquisitionRequest(BaseModel):
    individual_numbers: list[IndividualNumberText] = Field(min_length=1, max_length=10_000)


class AcquisitionResponse(BaseModel):
    acquisition_numbers: list[str]


class RedeemRequest(BaseModel):
    for_institution: str = Field(pattern=r"^[a-z0-9-]{2,32}$")
    acquisition_numbers: list[AcquisitionNumberText] = Field(min_length=1, max_length=10_000)


class RedeemedPerson(BaseModel):
    acquisition_number: str
    person_serial: str
    for_institution: str


class RedeemResponse(BaseModel):
    persons: list[RedeemedPerson]
