"""Every tree head an institution anchored, one per log and size."""

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from broker.models import Base
from services.db import UTCDateTime


class LogAnchor(Base):
    __tablename__ = "log_anchors"
    __table_args__ = (UniqueConstraint("institution_code", "log_name", "tree_size"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    institution_code: Mapped[str] = mapped_column(String(32))
    log_name: Mapped[str] = mapped_column(String(32))
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp: Mapped[int] = mapped_column(BigInteger)  # ms since the epoch, as the institution signed it
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
