"""SYM disposal: the approval to use, what a run would remove (preview) and what one did."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class DisposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approval_id: int


class DisposedItem(BaseModel):
    item_code: str
    expired_before: str  # periods sorting before this are past retention (tax year, month or date)
    periods: list[str]  # the expired periods held, oldest first
    copies: int
    revisions: int


class AccessLogRetention(BaseModel):
    retention_years: int
    entries_to_erase: int  # past retention and not erased yet: their content goes, their leaf hashes stay


class DisposalPlanOut(BaseModel):
    today: date
    items: list[DisposedItem]
    copies: int
    revisions: int
    access_log: AccessLogRetention


class DisposalRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    disposal_id: int
    disposed_at: datetime
    approval_id: int
    requested_by: str
    approved_by: str
    run_by: str
    items: list[DisposedItem]
    copies_deleted: int
    revisions_deleted: int
    access_log_entries_erased: int
