"""Individual resident tax (個人住民税) assessments, kept per tax year."""

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from municipality.city.models import Base
from services.db import UTCDateTime


class TaxAssessment(Base):
    __tablename__ = "tax_assessments"
    resident_code: Mapped[str] = mapped_column(ForeignKey("residents.resident_code"), primary_key=True)
    tax_year: Mapped[int] = mapped_column(primary_key=True)
    taxable_income: Mapped[int]
    income_levy: Mapped[int]
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime)
