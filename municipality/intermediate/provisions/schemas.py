"""A query as the broker forwards it to the provider, and the sealed answer."""

from pydantic import BaseModel, Field

from municipality.intermediate.copies.schemas import ItemCode


class ProvisionRequest(BaseModel):
    query_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    requester_code: str = Field(pattern=r"^[a-z0-9-]{2,32}$")
    requester_key_id: str = Field(pattern=r"^[a-z0-9-]{2,32}\.intermediate(\.v[0-9]+)?$")
    provider_symbol: str = Field(pattern=r"^[A-Z2-7]{32}$")
    procedure_code: ItemCode
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)


class SealedAnswer(BaseModel):
    ciphertext: str
