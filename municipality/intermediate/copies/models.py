"""DBM tables: copies (副本) keyed by address number, item and period; the values they replaced;
one record per pushed batch; and when each item was last refreshed.

Rule 1: a person appears only as the city's address number; values are coded (see items.yaml).
No column can hold an individual number, a name, an address, a sex or a birth date.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class Copy(Base):
    """The value other institutions are answered with. The unique key's index also serves
    look-ups by address number, so there is no second index to slow a whole city's insert."""

    __tablename__ = "copies"
    __table_args__ = (UniqueConstraint("address_number", "item_code", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    address_number: Mapped[str] = mapped_column(String(15))
    item_code: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[Any] = mapped_column(JSON)
    as_of: Mapped[date]  # the source system's date for the value
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when registered, or confirmed at a later as_of
    batch_id: Mapped[int]  # the batch that registered it


class CopyRevision(Base):
    """A value a later push replaced (a correction made in the source system), kept for audit."""

    __tablename__ = "copy_revisions"
    __table_args__ = (Index("ix_copy_revisions_person_item", "address_number", "item_code"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    address_number: Mapped[str] = mapped_column(String(15))
    item_code: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[Any] = mapped_column(JSON)
    as_of: Mapped[date]
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    batch_id: Mapped[int]
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_by_batch_id: Mapped[int]


class CopyBatch(Base):
    """One push from a source system, accepted whole (a refused batch leaves no record)."""

    __tablename__ = "copy_batches"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    item_codes: Mapped[list[str]] = mapped_column(JSON)
    rows_received: Mapped[int]
    inserted: Mapped[int]
    updated: Mapped[int]
    unchanged: Mapped[int]
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ItemRefresh(Base):
    """When each item was last pushed: the staleness view compares it with the item's schedule."""

    __tablename__ = "copy_item_refreshes"
    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_batch_id: Mapped[int]
    latest_as_of: Mapped[date]
    rows: Mapped[int]
