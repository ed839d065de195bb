"""OSR お知らせ: the city's record of every notice it sent to a resident's My Portal.

The text is not kept: a notice is free text a clerk writes, which may name the person (rule 1
forbids a name or address here), and the city's back-office holds what it decided to tell the
resident. `text_hmac` (HMAC-SHA256 under a key kept outside the database) lets the city show later that a
given text is the one it sent, while a stolen database cannot be used to test guesses at the text.
"""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class SentNotice(Base):
    __tablename__ = "sent_notices"
    notice_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    address_number: Mapped[str] = mapped_column(String(15), index=True)
    staff_id: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    text_hmac: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 of the title and body
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | refused | failed
    outcome_code: Mapped[str] = mapped_column(String(64))  # "delivered" or the problem's code
