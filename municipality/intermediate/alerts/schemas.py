"""What the alerts API takes and answers."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from municipality.intermediate.alerts.rules import RuleName
from municipality.intermediate.staff.schemas import StaffId
from municipality.intermediate.symbols.schemas import AddressNumber

AlertStatus = Literal["open", "acknowledged"]


class AlertOut(BaseModel):
    alert_id: int
    rule: RuleName
    staff_id: str | None
    department: str | None
    address_number: str | None
    staff_ids: list[str]
    window_start: datetime
    window_end: datetime
    count: int
    threshold: int
    seqs: list[int]
    detected_at: datetime
    status: AlertStatus
    acknowledged_by: str | None
    acknowledged_at: datetime | None


class EvaluationOut(BaseModel):
    evaluated_through: int  # the last access-log seq judged so far
    entries_evaluated: int  # how many entries this evaluation read
    alerts: list[AlertOut]  # alerts raised, or grown by new entries in their window


class HouseholdIn(BaseModel):
    """Address numbers of one staff member's household, declared by the city's personnel staff."""

    staff_id: StaffId
    address_numbers: list[AddressNumber] = Field(min_length=1, max_length=50)


class HouseholdOut(BaseModel):
    staff_id: str
    address_number: str
    declared_at: datetime
