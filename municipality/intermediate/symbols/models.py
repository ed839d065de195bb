"""FGU 符号管理: the city's symbol for each person, tied to the internal address number."""

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class SymbolLink(Base):
    __tablename__ = "symbol_links"
    address_number: Mapped[str] = mapped_column(String(15), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), unique=True)
    obtained_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StagedSymbolChange(Base):
    """An old → new symbol pair the broker delivered in a reissue, held until the reissue commits."""

    __tablename__ = "staged_symbol_changes"
    reissue_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    old_symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    new_symbol: Mapped[str] = mapped_column(String(32))
    batch_no: Mapped[int] = mapped_column(Integer, index=True)


class AppliedReissue(Base):
    """A reissue this server has switched to: a repeated commit answers from here."""

    __tablename__ = "applied_reissues"
    reissue_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    replaced: Mapped[int] = mapped_column(Integer)
    unmapped: Mapped[int] = mapped_column(Integer)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReissueApplicationSent(Base):
    """An application for a reissue this city sent the broker on an approved
    `symbol_reissue_application`; a reissue switches symbols here only if it names one."""

    __tablename__ = "reissue_applications_sent"
    application_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the broker's
    approval_id: Mapped[int] = mapped_column(Integer, unique=True)
    incident: Mapped[str] = mapped_column(Text)
    applied_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reissue_id: Mapped[str | None] = mapped_column(String(32), unique=True)  # set when applied
