"""Whitelist uploads and the history of loaded versions."""

from datetime import datetime

from pydantic import BaseModel, Field


class WhitelistUpload(BaseModel):
    """A new whitelist document as JSON; a YAML (or text) body is accepted as well."""

    yaml: str = Field(min_length=1, max_length=1_000_000)
    loaded_by: str = Field(default="operator", min_length=1, max_length=100)


class WhitelistVersionOut(BaseModel):
    version: str
    loaded_at: datetime
    loaded_by: str
    in_force: bool
    rows: int
