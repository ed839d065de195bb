"""取得番号: a single-use ticket that lets one institution obtain its symbol for one person."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from jlis.models import Base
from services.db import UTCDateTime


class AcquisitionNumber(Base):
    __tablename__ = "acquisition_numbers"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_serial: Mapped[str] = mapped_column(ForeignKey("persons.serial"), index=True)
    for_institution: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
