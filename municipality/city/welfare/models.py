"""生活保護システム: each household's protection case, by the head of the household."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.city.models import Base
from services.db import UTCDateTime


class WelfareCase(Base):
    __tablename__ = "welfare_cases"
    head_code: Mapped[str] = mapped_column(ForeignKey("residents.resident_code"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # receiving | suspended | discontinued
    monthly_amount: Mapped[int]  # yen
    started_on: Mapped[date]
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
