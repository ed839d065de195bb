"""Contractors, their sessions, contract grants and the contractor's read: requests and answers."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from municipality.intermediate.access_log.schemas import AccessEntryOut
from municipality.intermediate.approvals.schemas import MAX_EXPORT_PEOPLE
from municipality.intermediate.copies.schemas import ItemCode
from municipality.intermediate.staff.schemas import NewPassword
from municipality.intermediate.symbols.schemas import AddressNumber

# At most 20 characters, so that `contractor:<id>` fits the access log's staff_id.
ContractorId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{3,20}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContractorIn(_Strict):
    """A new contractor account. Without `password` the server generates one and shows it once."""

    contractor_id: ContractorId
    company: Annotated[str, Field(min_length=1, max_length=200)]
    password: NewPassword | None = None


class ContractorCreated(BaseModel):
    contractor_id: str
    company: str
    created_at: datetime
    initial_password: str | None


class ContractorPasswordReset(BaseModel):
    contractor_id: str
    initial_password: str | None  # generated when the administrator gave none; shown once


class ContractorLoginIn(_Strict):
    contractor_id: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=128)]


class ContractorSessionOut(BaseModel):
    token: str
    expires_at: datetime
    contractor_id: str
    company: str


class ContractGrantDetails(_Strict):
    """What a `contractor_grant` approval's details must say, and the grant then made."""

    contractor_id: ContractorId
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)
    address_numbers: list[AddressNumber] = Field(min_length=1, max_length=MAX_EXPORT_PEOPLE)
    valid_from: date
    valid_to: date
    purpose: Annotated[str, Field(min_length=1, max_length=200)]

    @model_validator(mode="after")
    def _term_is_ordered(self) -> "ContractGrantDetails":
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    def normalised(self) -> "ContractGrantDetails":
        """The same grant whatever the order of its lists: what approval and grant compare on."""
        return self.model_copy(
            update={
                "item_codes": sorted(set(self.item_codes)),
                "address_numbers": sorted(set(self.address_numbers)),
            }
        )


class ContractGrantIn(ContractGrantDetails):
    approval_id: int


class ContractGrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    grant_id: int = Field(validation_alias="id")
    contractor_id: str
    department: str
    item_codes: list[str]
    address_numbers: list[str]
    valid_from: date
    valid_to: date
    purpose: str
    approval_id: int
    granted_by: str
    granted_at: datetime


class ContractorCopiesIn(_Strict):
    address_number: AddressNumber
    item_codes: list[ItemCode] = Field(min_length=1, max_length=50)


class ContractAccessOut(AccessEntryOut):
    """One entry of the staff access log made by the grant's contractor."""
