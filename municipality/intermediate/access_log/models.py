"""SCM: the staff access log (アクセス記録), hash-chained so that tampering shows."""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class StaffAccess(Base):
    __tablename__ = "staff_access_log"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    staff_id: Mapped[str] = mapped_column(String(32), index=True)
    department: Mapped[str] = mapped_column(String(32))
    address_number: Mapped[str] = mapped_column(String(15), index=True)
    procedure_code: Mapped[str] = mapped_column(String(64))
    item_codes: Mapped[list[str]] = mapped_column(JSON)
    provider_code: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64))
