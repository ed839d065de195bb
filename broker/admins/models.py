"""Broker administrators: named people, so that a second one can confirm what the first declared."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from broker.models import Base
from services.db import UTCDateTime


class Administrator(Base):
    __tablename__ = "administrators"
    admin_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # the token itself is shown once
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
