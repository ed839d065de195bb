"""Requests and answers of card issuance, revocation and card login."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from jlis.numbers.schemas import IndividualNumberText

CardRevocationReason = Literal["lost", "stolen", "returned"]


class IssueCardRequest(BaseModel):
    """What the city's counter sends: the holder's number and 基本情報, and the public halves of
    the two key pairs the card generated (the private keys never leave the card)."""

    individual_number: IndividualNumberText
    auth_public_key_pem: str = Field(min_length=1, max_length=4000)
    signing_public_key_pem: str = Field(min_length=1, max_length=4000)
    name: str = Field(min_length=1, max_length=64)  # an X.509 common name holds at most 64
    address: str = Field(min_length=1, max_length=128)
    birth_date: date


class IssuedCard(BaseModel):
    card_id: str
    expires_on: date
    auth_certificate_pem: str
    signing_certificate_pem: str


class RevokeCardRequest(BaseModel):
    reason: CardRevocationReason


class CardRevocation(BaseModel):
    card_id: str
    status: str
    reason: str
    revoked_at: datetime
    revoked_serial_numbers: list[str]


class CaCertificates(BaseModel):
    root_certificate_pem: str
    issuing_certificate_pem: str


class Challenge(BaseModel):
    challenge: str
    expires_at: datetime


class CardLoginRequest(BaseModel):
    """Limits are generous on purpose: a malformed value is a failed login (401), not a 422."""

    certificate_pem: str = Field(max_length=10_000)
    challenge: str = Field(max_length=200)
    signature: str = Field(max_length=1_000)
