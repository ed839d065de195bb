"""児童手当システム: who receives child allowance for how many children, and how much a month."""

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from municipality.city.models import Base
from services.db import UTCDateTime


class ChildAllowanceRecipient(Base):
    __tablename__ = "child_allowance_recipients"
    recipient_code: Mapped[str] = mapped_column(ForeignKey("residents.resident_code"), primary_key=True)
    children: Mapped[int]
    monthly_amount: Mapped[int]  # yen
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
