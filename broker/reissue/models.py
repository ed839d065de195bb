"""A symbol reissue (符号の再発行): one institution's symbols declared leaked and replaced."""

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from broker.models import Base
from services.db import UTCDateTime


class SymbolReissue(Base):
    """Declared by one administrator, confirmed by another, then run in phases
    (deriving → delivering → switching → done) so that a failed or interrupted run resumes where
    it stopped. `status` is awaiting_confirmation | running | failed | completed, or cancelled: a
    declaration withdrawn before anyone confirmed it, which changed nothing."""

    __tablename__ = "symbol_reissues"
    reissue_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    institution_code: Mapped[str] = mapped_column(String(32), index=True)
    # Not unique: a cancelled declaration gives its application back (ReissueApplication.reissue_id
    # is the one that names at most one live reissue per application).
    application_id: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    declared_by: Mapped[str] = mapped_column(String(32))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(32))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(32))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(16))
    from_epoch: Mapped[int] = mapped_column(Integer)
    to_epoch: Mapped[int] = mapped_column(Integer)
    persons: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # The broker replica running the job, until when: another replica takes over only after that.
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReissueApplication(Base):
    """An institution's application for a reissue (符号の再発行申請), sent by its intermediate
    server once its section chief approved it. A declaration must name one, so no administrator
    replaces a city's symbols without the city's own approved request; each is used once."""

    __tablename__ = "symbol_reissue_applications"
    application_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    institution_code: Mapped[str] = mapped_column(String(32), index=True)
    incident: Mapped[str] = mapped_column(Text)
    applied_by: Mapped[str] = mapped_column(String(64))  # the city's staff ids, as the city sent them
    approved_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reissue_id: Mapped[str | None] = mapped_column(String(32), unique=True)
