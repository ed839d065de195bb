"""SCM access log: what the operator and an auditor read of it."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _EntryFields(BaseModel):
    """An entry's own fields, as its leaf is hashed over them (but `at`, which each reader takes
    its own way)."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    staff_id: str
    department: str
    address_number: str | None  # None, with item_codes and purpose, once erased past retention
    procedure_code: str
    item_codes: list[str] | None
    provider_code: str
    purpose: str | None
    outcome: str
    erased_by: int | None  # the disposal that erased it


class AccessEntryOut(_EntryFields):
    at: datetime


class AccessLogOut(BaseModel):
    intact: bool
    first_broken_entry: int | None  # seq; None with intact false: entries after the last were deleted
    entries: list[AccessEntryOut]


class LoggedEntryOut(_EntryFields):
    """A leaf as logged: the fields it is hashed over (`at` exactly as hashed), its place and its
    part of the tree (base64), for an audit that recomputes every leaf and root."""

    at: str
    leaf_index: int
    leaf_hash: str
    frontier: str


class LoggedEntriesOut(BaseModel):
    entries: list[LoggedEntryOut]


class AccessLogHeadOut(BaseModel):
    """A head signed by this server (services.access_log_audit.AccessLogHead) under `key_id`."""

    tree_size: int
    root_hash: str  # base64
    timestamp: int  # ms since the epoch
    signature: str  # base64
    key_id: str
    anchored_at: datetime | None  # when the broker accepted it
