"""Declaring a leak and following the reissue it starts."""

from datetime import datetime

from pydantic import BaseModel, Field

from broker.registry.schemas import Code


class LeakDeclaration(BaseModel):
    institution_code: Code
    reason: str = Field(min_length=1, max_length=2000)


class ReissueOut(BaseModel):
    reissue_id: str
    institution_code: str
    reason: str
    declared_by: str
    declared_at: datetime
    confirmed_by: str | None
    confirmed_at: datetime | None
    status: str
    phase: str
    from_epoch: int
    to_epoch: int
    persons: int
    delivered: int
    finished_at: datetime | None
    error: str | None
