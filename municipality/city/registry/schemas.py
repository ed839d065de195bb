"""Resident registration requests and answers."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

ResidentCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")]


class ResidentIn(BaseModel):
    resident_code: ResidentCode
    name: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1, max_length=300)
    birth_date: date
    sex: Literal["男", "女"]
    moved_in_from: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = Field(
        default=None, description="転入: the municipality code of the city the resident left"
    )
    household_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")] | None = Field(
        default=None, description="世帯番号: residents of one household share it"
    )
    relationship: Literal["世帯主", "配偶者", "子", "親", "その他"] | None = Field(
        default=None, description="続柄 to the head of the household"
    )


class RegisterResidentsRequest(BaseModel):
    residents: list[ResidentIn] = Field(min_length=1, max_length=200_000)


class RegisteredResident(BaseModel):
    resident_code: str
    address_number: str
    individual_number: str


class RegisterResidentsResponse(BaseModel):
    residents: list[RegisteredResident]


class NumberChangeIn(BaseModel):
    resident_code: ResidentCode
    reason: Literal["leaked", "misused", "resident_request"]


class NumberChangeOut(BaseModel):
    resident_code: str
    individual_number: str
    previous_number_revoked_at: str


class CardApplication(BaseModel):
    """At the counter: the resident, and the public halves of the key pairs the new card generated."""

    resident_code: ResidentCode
    auth_public_key_pem: str = Field(min_length=1, max_length=4000)
    signing_public_key_pem: str = Field(min_length=1, max_length=4000)


class IssuedCardOut(BaseModel):
    card_id: str
    expires_on: date
    auth_certificate_pem: str
    signing_certificate_pem: str
