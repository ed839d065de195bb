"""Requests and answers of individual-number issuance, lookup, transfer and change."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

IndividualNumberText = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class IssueNumbersRequest(BaseModel):
    """Raw codes: each is checked on its own, so one bad code does not hide the others' fate."""

    resident_codes: list[str] = Field(min_length=1, max_length=200_000)
    all_or_nothing: bool = False


class IssuedNumber(BaseModel):
    index: int
    resident_code: str
    individual_number: str


class RejectedItem(BaseModel):
    index: int
    resident_code: str
    code: str
    reason: str


class IssueNumbersResponse(BaseModel):
    all_or_nothing: bool
    issued: int
    numbers: list[IssuedNumber]
    rejected: list[RejectedItem]


class ResidenceTransfer(BaseModel):
    resident_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")]
    from_municipality: MunicipalityCode


class TransferRequest(BaseModel):
    transfers: list[ResidenceTransfer] = Field(min_length=1, max_length=10_000)


class TransferResponse(BaseModel):
    transferred: int


class LookupRequest(BaseModel):
    resident_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")]


class LookupResponse(BaseModel):
    resident_code: str
    individual_number: str


class NumberChangeRequest(BaseModel):
    individual_number: IndividualNumberText
    reason: Literal["leaked", "misused", "resident_request"]


class NumberChangeResponse(BaseModel):
    individual_number: str
    previous_number_revoked_at: str
    certificates_revoked: int
