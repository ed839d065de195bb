"""SCM approvals: requests for privileged operations and their decisions, who stands in for an
absent section chief, and a log of every step (rule 6).

Absence and deputies are kept here rather than on the staff account: they are facts about who
may approve, and change far more often than an account does.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class ApprovalRequest(Base):
    """A privileged operation asked for by a staff member: pending → approved | refused, and an
    approved one → consumed once, by the operation it allows."""

    __tablename__ = "approval_requests"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(32), index=True)  # the requester's, whose chief decides
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)  # exactly what is allowed, e.g. items × people
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | refused | consumed
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decision_reason: Mapped[str | None] = mapped_column(Text, default=None)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DepartmentDeputy(Base):
    """The 主査 a department names in advance to decide while its 課長 is away (代決者)."""

    __tablename__ = "department_deputies"
    department: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32))
    designated_by: Mapped[str] = mapped_column(String(32))  # a chief's staff id or "operator"
    designated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffAbsence(Base):
    """A staff member marked away (不在); no row means present."""

    __tablename__ = "staff_absences"
    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    marked_by: Mapped[str] = mapped_column(String(32))


class ApprovalEvent(Base):
    """One step in the approvals log: a request, a decision, a consumption, a decision attempt
    refused, a deputy named or an absence marked. Appended, never changed."""

    __tablename__ = "approval_log"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    approval_id: Mapped[int | None] = mapped_column(index=True)
    event: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[str] = mapped_column(String(32))  # who acted ("operator" for the operator)
    department: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
