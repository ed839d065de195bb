"""A query (情報照会) as the requester's intermediate server sends it, and the relayed answer;
the batch form asks one provider the same items of many persons at once."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from broker.symbols.schemas import SymbolText

ItemCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]+\.[a-z_]+$")]
ProviderCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,32}$")]
MAX_BATCH_PERSONS = 1000


class QueryIn(BaseModel):
    requester_symbol: SymbolText
    procedure_code: ItemCode
    provider_code: ProviderCode
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)


class QueryAnswer(BaseModel):
    """The provider's answer, sealed to the requester: the broker cannot read `ciphertext`."""

    query_id: str
    provider_code: str
    whitelist_version: str
    whitelist_row: str
    ciphertext: str


class BatchQueryIn(BaseModel):
    """One procedure, one provider, the same items, for up to 1,000 persons (each named once)."""

    requester_symbols: list[SymbolText] = Field(min_length=1, max_length=MAX_BATCH_PERSONS)
    procedure_code: ItemCode
    provider_code: ProviderCode
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)

    @field_validator("requester_symbols")
    @classmethod
    def _each_person_once(cls, symbols: list[str]) -> list[str]:
        if len(set(symbols)) != len(symbols):
            raise ValueError("each requester symbol may appear only once in a batch")
        return symbols


class PersonResult(BaseModel):
    """One person's part of a batch: a sealed answer, or the problem that stopped it."""

    requester_symbol: str
    query_id: str
    outcome: Literal["provided", "refused", "failed"]
    ciphertext: str | None = None
    problem: dict[str, Any] | None = None


class BatchQueryAnswer(BaseModel):
    provider_code: str
    whitelist_version: str
    whitelist_row: str
    results: list[PersonResult]  # in the order of `requester_symbols`
