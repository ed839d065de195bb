"""Declaring a leak and following the reissue it starts."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from broker.registry.schemas import Code

ApplicationId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
StaffId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ReissueApplicationIn(BaseModel):
    """What a city's intermediate server sends once its section chief approved the application."""

    model_config = ConfigDict(extra="forbid")
    application_id: ApplicationId  # chosen by the city, so that sending it again is harmless
    incident: str = Field(min_length=1, max_length=2000)
    applied_by: StaffId
    approved_by: StaffId


class ReissueApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    application_id: str
    institution_code: str
    incident: str
    applied_by: str
    approved_by: str
    received_at: datetime
    reissue_id: str | None


class LeakDeclaration(BaseModel):
    institution_code: Code
    application_id: ApplicationId
    reason: str = Field(min_length=1, max_length=2000)


class ReissueOut(BaseModel):
    reissue_id: str
    institution_code: str
    application_id: str
    reason: str
    declared_by: str
    declared_at: datetime
    confirmed_by: str | None
    confirmed_at: datetime | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    status: str
    phase: str
    from_epoch: int
    to_epoch: int
    persons: int
    delivered: int
    finished_at: datetime | None
    error: str | None
