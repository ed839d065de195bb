"""SYM: one record per disposal run: what was removed, how much, when, on whose approval."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class DisposalRecord(Base):
    __tablename__ = "disposal_records"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    disposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approval_id: Mapped[int]
    requested_by: Mapped[str] = mapped_column(String(32))
    approved_by: Mapped[str] = mapped_column(String(32))
    run_by: Mapped[str] = mapped_column(String(32))  # the requester, or "operator"
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # per item: expired_before, periods, copies, revisions
    copies_deleted: Mapped[int]
    revisions_deleted: Mapped[int]  # of expired periods and aged past the revisions' retention
    access_log_entries_erased: Mapped[int]  # past the log's retention: content erased, leaf hash kept
