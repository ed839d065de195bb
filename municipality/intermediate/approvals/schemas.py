"""Approval requests and decisions, deputies and absences: requests and answers.

A request's `details` say exactly what the approval allows; each action has its own shape, so
an approver never signs off something vaguer than what will be done.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from municipality.intermediate.copies.catalogue import without_number
from municipality.intermediate.copies.schemas import ItemCode
from municipality.intermediate.staff.schemas import StaffId, Title
from municipality.intermediate.symbols.schemas import AddressNumber

Action = Literal["bulk_export", "role_change", "disposal", "contractor_grant", "symbol_reissue_application"]
Status = Literal["pending", "approved", "refused", "consumed"]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
MAX_EXPORT_PEOPLE = 10_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BulkExportDetails(_Strict):
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)
    address_numbers: list[AddressNumber] = Field(min_length=1, max_length=MAX_EXPORT_PEOPLE)


class RoleChangeDetails(_Strict):
    staff_id: StaffId
    department: str | None = None
    title: Title | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> "RoleChangeDetails":
        if self.department is None and self.title is None:
            raise ValueError("name the new department, the new title, or both")
        return self


class DisposalDetails(_Strict):
    """Nothing to choose: a disposal removes what the retention data says has expired on the day
    it runs (`GET /disposals/preview` shows the approver what that is)."""


class BulkExportRequest(_Strict):
    action: Literal["bulk_export"]
    details: BulkExportDetails
    reason: Reason


class RoleChangeRequest(_Strict):
    action: Literal["role_change"]
    details: RoleChangeDetails
    reason: Reason


class DisposalRequest(_Strict):
    action: Literal["disposal"]
    details: DisposalDetails = DisposalDetails()
    reason: Reason


class SymbolReissueApplicationDetails(_Strict):
    """What the application will tell the broker: what happened to the city's symbols."""

    incident: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(without_number)]


class SymbolReissueApplicationRequest(_Strict):
    action: Literal["symbol_reissue_application"]
    details: SymbolReissueApplicationDetails
    reason: Reason


class OpenRequest(_Strict):
    """Actions whose operation checks its own details when it consumes the approval."""

    action: Literal["contractor_grant"]
    details: dict[str, Any]
    reason: Reason


ApprovalIn = Annotated[
    BulkExportRequest | RoleChangeRequest | DisposalRequest | SymbolReissueApplicationRequest | OpenRequest,
    Field(discriminator="action"),
]


class DecisionIn(_Strict):
    decision: Literal["approve", "refuse"]
    reason: Reason | None = None

    @model_validator(mode="after")
    def _refusal_says_why(self) -> "DecisionIn":
        if self.decision == "refuse" and self.reason is None:
            raise ValueError("a refusal gives its reason")
        return self


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    approval_id: int = Field(validation_alias="id")
    action: Action
    department: str
    requested_by: str
    requested_at: datetime
    details: dict[str, Any]
    reason: str
    status: Status
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    consumed_at: datetime | None


class DeputyIn(_Strict):
    staff_id: StaffId


class DeputyOut(BaseModel):
    department: str
    staff_id: str
    designated_by: str
    designated_at: datetime


class AbsenceIn(_Strict):
    absent: bool


class AbsenceOut(BaseModel):
    staff_id: str
    absent: bool
    since: datetime | None


class ApproversOut(BaseModel):
    """Who may decide the department's requests now, and why."""

    department: str
    approvers: list[str]
    deputy: str | None
    absent_chiefs: list[str]


class ApprovalEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    approval_id: int | None
    event: str
    staff_id: str
    department: str
    detail: str


class RoleChangeIn(_Strict):
    approval_id: int


class RoleChangeOut(BaseModel):
    approval_id: int
    staff_id: str
    department: str
    title: str
    previous_department: str
    previous_title: str
