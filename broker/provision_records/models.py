"""情報提供等記録: who asked whom for which items of which person, when, and what came of it.
Never the content.

Each record is also leaf `leaf_index` of the provision log, an RFC 9162 Merkle tree (see `log`
and `tree`): its row carries its part of the tree; signed heads are stored beside."""

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from broker.models import Base
from services.db import UTCDateTime
from services.log_tree import LogLeaf, SignedHead


class ProvisionRecord(LogLeaf, Base):
    __tablename__ = "provision_records"
    query_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    requester_code: Mapped[str] = mapped_column(String(32))
    provider_code: Mapped[str] = mapped_column(String(32))
    procedure_code: Mapped[str] = mapped_column(String(64))
    item_codes: Mapped[list[str]] = mapped_column(JSON)
    provider_symbol: Mapped[str | None] = mapped_column(String(32))
    person_serial: Mapped[str | None] = mapped_column(String(32), index=True)
    # hex, random per record: hides serial and symbol inside the leaf's subject_commitment
    subject_salt: Mapped[str] = mapped_column(String(64))
    whitelist_version: Mapped[str] = mapped_column(String(32))
    whitelist_row: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))  # provided | refused | failed
    outcome_code: Mapped[str] = mapped_column(String(64))
    latency_ms: Mapped[int] = mapped_column(Integer)  # from the query's arrival to its outcome
    # leaf_index, leaf_hash (hex, see services.log_audit), subtree_hashes, frontier: services.log_tree


class SignedTreeHead(SignedHead, Base):
    """Every head the broker signed, one per tree size: auditors can be handed the same head again."""

    __tablename__ = "provision_log_heads"
