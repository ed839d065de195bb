"""The broker's record of each notice (お知らせ) it relayed to My Portal: who sent it, for whom
(the person's serial, as provision records name persons), when and how it ended. Never the notice,
sealed or open (rule 3)."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from broker.models import Base
from services.db import UTCDateTime


class NoticeDelivery(Base):
    __tablename__ = "notice_deliveries"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(String(32), index=True)  # the sending city's
    sender_code: Mapped[str] = mapped_column(String(32))
    person_serial: Mapped[str | None] = mapped_column(String(32), index=True)  # None: unknown symbol
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | refused | failed
    outcome_code: Mapped[str] = mapped_column(String(64))  # "delivered" or the problem's code
