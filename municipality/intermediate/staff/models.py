"""SCM: staff accounts (職員) of the intermediate server and their short-lived sessions.

A staff id is never reused or renamed: the access log, and later approvals, name staff by it.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from municipality.intermediate.sign_in import PasswordAccount, SessionToken
from services.db import UTCDateTime

CHIEF, SENIOR = "課長", "主査"  # section chief (decides approvals); senior staff (may be the deputy)


class StaffMember(PasswordAccount, Base):
    """A staff account: its password and lockout columns are sign_in.py's `PasswordAccount`."""

    __tablename__ = "staff_members"
    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    department: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(8))  # CHIEF | SENIOR | 担当 (staff)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(32))  # "operator" or the administrator's staff id


class StaffSession(SessionToken, Base):
    """A signed-in staff member's bearer token (sign_in.py's `SessionToken`)."""

    __tablename__ = "staff_sessions"
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_members.staff_id"), index=True)
