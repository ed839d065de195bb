"""A query (情報照会) as the requester's intermediate server sends it, and the relayed answer."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from broker.symbols.schemas import SymbolText

ItemCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]+\.[a-z_]+$")]


class QueryIn(BaseModel):
    requester_symbol: SymbolText
    procedure_code: ItemCode
    provider_code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,32}$")]
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)


class QueryAnswer(BaseModel):
    """The provider's answer, sealed to the requester: the broker cannot read `ciphertext`."""

    query_id: str
    provider_code: str
    whitelist_version: str
    whitelist_row: str
    ciphertext: str
