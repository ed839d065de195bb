"""A query as the broker forwards it to the provider, and the sealed answer; the batch form
carries many persons under one requester, procedure and item list. Each names the whitelist
row (and its version) the broker let it through under, for the city's own provision record."""

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from municipality.intermediate.copies.schemas import ItemCode

QueryId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
ProviderSymbol = Annotated[str, StringConstraints(pattern=r"^[A-Z2-7]{32}$")]
RequesterCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,32}$")]
RequesterKeyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,32}\.intermediate(\.v[0-9]+)?$")]
WhitelistRow = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,16}$")]
WhitelistVersion = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class ProvisionRequest(BaseModel):
    query_id: QueryId
    requester_code: RequesterCode
    requester_key_id: RequesterKeyId
    provider_symbol: ProviderSymbol
    procedure_code: ItemCode
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)
    whitelist_row: WhitelistRow
    whitelist_version: WhitelistVersion


class SealedAnswer(BaseModel):
    ciphertext: str


class ForwardedPerson(BaseModel):
    query_id: QueryId
    provider_symbol: ProviderSymbol


class BatchProvisionRequest(BaseModel):
    requester_code: RequesterCode
    requester_key_id: RequesterKeyId
    procedure_code: ItemCode
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)
    whitelist_row: WhitelistRow
    whitelist_version: WhitelistVersion
    persons: list[ForwardedPerson] = Field(min_length=1, max_length=1000)


class PersonAnswer(BaseModel):
    """One person's answer, sealed on its own to the requester, or the problem (no content)."""

    query_id: str
    ciphertext: str | None = None
    problem: dict[str, Any] | None = None


class BatchSealedAnswer(BaseModel):
    answers: list[PersonAnswer]  # one per forwarded person, in order
