"""SCM: unusual-access alerts raised from the staff access log, where the evaluation has got to,
and the address numbers of staff's own households (declared by the city's personnel staff)."""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class AccessAlert(Base):
    """One alert: a rule that fired for one staff member (or one person) in one fixed window.

    `dedupe_key` (rule, who, window) makes it stored once: later entries in the same window join
    it (count and seqs grow) without reopening an acknowledged alert.
    """

    __tablename__ = "access_alerts"
    alert_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    rule: Mapped[str] = mapped_column(String(32), index=True)
    staff_id: Mapped[str | None] = mapped_column(String(32))  # None for many_staff_one_person
    department: Mapped[str | None] = mapped_column(String(32))
    address_number: Mapped[str | None] = mapped_column(String(15))  # for the per-person rules
    staff_ids: Mapped[list[str]] = mapped_column(JSON)  # every staff member in the entries
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int]
    threshold: Mapped[int]  # the count this window had to exceed
    seqs: Mapped[list[int]] = mapped_column(JSON)  # the access-log entries involved
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | acknowledged
    acknowledged_by: Mapped[str | None] = mapped_column(String(32), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AlertCursor(Base):
    """The last access-log entry evaluated: each evaluation reads only the entries after it."""

    __tablename__ = "access_alert_cursor"
    log: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seq: Mapped[int]
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffHousehold(Base):
    """An address number of a staff member's own household (the server never learns whose)."""

    __tablename__ = "staff_households"
    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    address_number: Mapped[str] = mapped_column(String(15), primary_key=True)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
