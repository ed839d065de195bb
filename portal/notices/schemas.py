"""Notices as the broker delivers them to My Portal, and as the resident reads them."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

NoticeId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class DeliveredNotice(BaseModel):
    notice_id: NoticeId
    portal_symbol: Annotated[str, StringConstraints(pattern=r"^[A-Z2-7]{32}$")]
    sender_code: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    ciphertext: str = Field(min_length=1, max_length=64_000)


class NoticeReceived(BaseModel):
    notice_id: str
    received_at: datetime


class Sender(BaseModel):
    code: str
    name: str


class NoticeOut(BaseModel):
    notice_id: str
    sender: Sender
    title: str
    body: str
    sent_at: datetime
    received_at: datetime
    read_at: datetime | None


class NoticesOut(BaseModel):
    notices: list[NoticeOut]  # newest first
