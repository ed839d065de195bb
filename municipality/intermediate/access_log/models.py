"""SCM: the staff access log (アクセス記録), an RFC 9162 Merkle log so that tampering shows.

Each entry is a leaf of the log's tree, its row carrying its part of the tree (services.log_tree);
the heads the intermediate server signed are kept beside, with when the broker anchored them.
Past the log's retention a disposal erases what an entry says about a resident (whose data, which
items, why) and keeps its leaf hash, so the tree and its anchored heads still verify."""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime
from services.log_tree import LogLeaf, SignedHead


class StaffAccess(LogLeaf, Base):
    __tablename__ = "staff_access_log"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    staff_id: Mapped[str] = mapped_column(String(32), index=True)
    department: Mapped[str] = mapped_column(String(32))
    address_number: Mapped[str | None] = mapped_column(String(15), index=True)  # None once erased
    procedure_code: Mapped[str] = mapped_column(String(64))
    item_codes: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))  # None once erased
    provider_code: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(200))  # the staff member's stated reason, if given
    outcome: Mapped[str] = mapped_column(String(64))
    erased_by: Mapped[int | None] = mapped_column(default=None)  # the disposal that erased it
    # leaf_index, leaf_hash (hex, see services.access_log_audit), subtree_hashes, frontier: services.log_tree


class SignedAccessLogHead(SignedHead, Base):
    """Every head of the access log this server signed, one per tree size; `anchored_at` is when
    the broker accepted it (None until then)."""

    __tablename__ = "staff_access_log_heads"
    anchored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
