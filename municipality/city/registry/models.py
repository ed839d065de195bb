"""Residents as the registry knows them, and the integrated address system's numbers."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.city.models import Base
from services.db import UTCDateTime


class Resident(Base):
    """住民票: the basic four (name, address, birth date, sex) live here and nowhere downstream."""

    __tablename__ = "residents"
    resident_code: Mapped[str] = mapped_column(String(11), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300))
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(String(8))
    moved_in_from: Mapped[str | None] = mapped_column(String(6), default=None)
    household_code: Mapped[str | None] = mapped_column(String(10), index=True, default=None)  # 世帯番号
    relationship: Mapped[str | None] = mapped_column(String(8), default=None)  # 続柄: 世帯主, 配偶者, 子, …
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AddressRecord(Base):
    """団体内統合宛名: the city's internal address number, tied to the individual number."""

    __tablename__ = "address_records"
    address_number: Mapped[str] = mapped_column(String(15), primary_key=True)
    resident_code: Mapped[str] = mapped_column(ForeignKey("residents.resident_code"), unique=True)
    individual_number: Mapped[str] = mapped_column(String(12), unique=True)
