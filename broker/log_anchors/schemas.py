"""Anchors as institutions send them and auditors read them."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

LogName = Literal["staff_access"]  # services.access_log_audit.ACCESS_LOG


class AnchorIn(BaseModel):
    """A tree head signed by the calling intermediate server (services.access_log_audit.AccessLogHead)."""

    log: LogName
    tree_size: int = Field(ge=0)
    root_hash: str = Field(max_length=64)  # base64
    timestamp: int = Field(ge=0)  # ms since the epoch
    signature: str = Field(max_length=128)  # base64
    key_id: str = Field(max_length=64)


class AnchorOut(BaseModel):
    institution_code: str
    log: str
    tree_size: int
    root_hash: str
    timestamp: int
    signature: str
    key_id: str
    received_at: datetime
