"""機関別符号: each institution's own symbol for a person; only the broker holds the mapping."""

from datetime import datetime

from sqlalchemy import Boolean, String, UniqueConstraint
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


class SymbolEpoch(Base):
    """An institution's symbol epoch. Its symbols of older epochs are revoked; while `reissuing`,
    symbols of epoch + 1 are being derived and delivered and queries to and from it are refused
    cleanly. An institution without a row is in epoch 1."""

    __tablename__ = "symbol_epochs"
    institution_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    epoch: Mapped[int] = mapped_column(default=1)
    reissuing: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
