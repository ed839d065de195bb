"""機関別符号: each institution's own symbol for a person; only the broker holds the mapping."""

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from broker.models import Base
from services.db import UTCDateTime


class InstitutionSymbol(Base):
    __tablename__ = "institution_symbols"
    __table_args__ = (UniqueConstraint("institution_code", "person_serial", "epoch"),)
    institution_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_serial: Mapped[str] = mapped_column(String(32), index=True)
    epoch: Mapped[int] = mapped_column(default=1)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
