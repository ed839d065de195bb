"""DBM: copies (副本) of items from the city's systems, keyed by address number and period."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class Copy(Base):
    __tablename__ = "copies"
    __table_args__ = (UniqueConstraint("address_number", "item_code", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    address_number: Mapped[str] = mapped_column(String(15), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[Any] = mapped_column(JSON)
    as_of: Mapped[date]
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
