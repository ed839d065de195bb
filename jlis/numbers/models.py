"""People as J-LIS knows them: a lifelong serial, the resident code, numbers and residences."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from jlis.models import Base
from services.db import UTCDateTime


class Person(Base):
    """One resident. `serial` is opaque and never changes, even when the number does."""

    __tablename__ = "persons"
    serial: Mapped[str] = mapped_column(String(32), primary_key=True)
    resident_code: Mapped[str] = mapped_column(String(11), unique=True)
    current_municipality: Mapped[str] = mapped_column(String(6))
    number_generation: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IndividualNumber(Base):
    """A 12-digit individual number (個人番号). A changed number stays here, revoked, with why."""

    __tablename__ = "individual_numbers"
    number: Mapped[str] = mapped_column(String(12), primary_key=True)
    person_serial: Mapped[str] = mapped_column(ForeignKey("persons.serial"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="valid")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revocation_reason: Mapped[str | None] = mapped_column(String(32), default=None)


class Residence(Base):
    """A municipality this person lived in before a move (the current one is on `Person`)."""

    __tablename__ = "residences"
    person_serial: Mapped[str] = mapped_column(ForeignKey("persons.serial"), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NumberOperation(Base):
    """Every issuance, lookup, transfer and change touching a person's number, and who asked."""

    __tablename__ = "number_operations"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    caller: Mapped[str] = mapped_column(String(100))
    operation: Mapped[str] = mapped_column(String(32))
    person_serial: Mapped[str | None] = mapped_column(String(32), index=True)
    count: Mapped[int] = mapped_column(default=1)
    outcome: Mapped[str] = mapped_column(String(64))
