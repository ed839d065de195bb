"""A notice (お知らせ) a staff member sends to a resident's My Portal, and the city's record of it."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from municipality.intermediate.copies.catalogue import number_like
from municipality.intermediate.symbols.schemas import AddressNumber


def _no_number(text: str) -> str:
    """No individual number may enter through free text (rule 1), as for the copies' text items."""
    if number_like(text):
        raise ValueError("must not contain 12 digits in a row (an individual number may not be sent)")
    return text


NoticeTitle = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_number)]
NoticeBody = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_no_number)]


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
    notice_id: str
    address_number: str
    staff_id: str
    department: str
    sent_at: datetime
    text_hmac: str
    outcome: str
    outcome_code: str
