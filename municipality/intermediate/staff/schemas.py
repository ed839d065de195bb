"""Staff enrolment requests and answers."""

from typing import Annotated

from pydantic import BaseModel, StringConstraints


class StaffIn(BaseModel):
    staff_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{3,32}$")]
    department: str


class StaffCreated(BaseModel):
    staff_id: str
    department: str
    token: str
