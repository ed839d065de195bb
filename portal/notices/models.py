"""Notices (お知らせ) cities sent to residents, kept sealed to My Portal's key until a resident
reads them, under the portal's own symbol for the resident."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models import Base
from services.db import UTCDateTime


class PortalNotice(Base):
    __tablename__ = "portal_notices"
    notice_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the sending city's
    symbol: Mapped[str] = mapped_column(String(32), index=True)  # the portal's symbol for the resident
    sender_code: Mapped[str] = mapped_column(String(32))  # as the broker vouches for it
    ciphertext: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
