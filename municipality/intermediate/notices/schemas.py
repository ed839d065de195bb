"""A notice (お知らせ) a staff member sends to a resident's My Portal, and the city's record of it."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from municipality.intermediate.copies.catalogue import without_number
from municipality.intermediate.symbols.schemas import AddressNumber

NoticeTitle = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(without_number)]
NoticeBody = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(without_number)]


class NoticeIn(BaseModel):
    address_number: AddressNumber
    title: NoticeTitle
    body: NoticeBody


class NoticeSent(BaseModel):
    notice_id: str
    address_number: str
    sent_at: datetime
    outcome: str  # delivered


class SentNoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    notice_id: str
    address_number: str
    staff_id: str
    department: str
    sent_at: datetime
    text_hmac: str
    outcome: str
    outcome_code: str
