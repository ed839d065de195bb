"""国民健康保険システム: who the city's national health insurance covers, since when."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.city.models import Base
from services.db import UTCDateTime


class HealthInsuranceEnrollment(Base):
    __tablename__ = "health_insurance_enrollments"
    resident_code: Mapped[str] = mapped_column(ForeignKey("residents.resident_code"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # enrolled | withdrawn
    changed_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
