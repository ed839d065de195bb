"""Every whitelist version the broker has loaded: the latest loaded is the one in force."""

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from broker.models import Base
from services.db import UTCDateTime


class WhitelistVersion(Base):
    """One loaded whitelist document, kept whole so any provision record's version can be read back."""

    __tablename__ = "whitelist_versions"
    # Load order: the highest sequence is in force (a timestamp could tie between replicas).
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loaded_by: Mapped[str] = mapped_column(String(100))
    document: Mapped[str] = mapped_column(Text)
