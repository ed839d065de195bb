"""A notice a city's intermediate server hands the broker for a resident's My Portal."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

NoticeId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
SymbolText = Annotated[str, StringConstraints(pattern=r"^[A-Z2-7]{32}$")]


class NoticeIn(BaseModel):
    notice_id: NoticeId
    sender_symbol: SymbolText  # the sending city's symbol for the resident
    ciphertext: str = Field(min_length=1, max_length=64_000)  # sealed to My Portal; never opened here


class NoticeDelivered(BaseModel):
    notice_id: str
    delivered_at: datetime
