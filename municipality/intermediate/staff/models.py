"""SCM: staff accounts (職員) of the intermediate server and their short-lived sessions.

A staff id is never reused or renamed: the access log, and later approvals, name staff by it.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class StaffMember(Base):
    __tablename__ = "staff_members"
    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    department: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(8))  # 課長 | 主査 | 担当
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, with its parameters and salt
    failed_logins: Mapped[int] = mapped_column(default=0)  # wrong passwords since the last success or lock
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(32))  # "operator" or the administrator's staff id


class StaffSession(Base):
    """A signed-in staff member's bearer token, stored only as its SHA-256, good until `expires_at`."""

    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_members.staff_id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
