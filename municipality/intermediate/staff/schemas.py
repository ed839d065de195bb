"""Staff accounts, sign-in and sessions: requests and answers."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

StaffId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{3,32}$")]
Title = Literal["課長", "主査", "担当"]  # section chief, senior staff, staff
# Long rather than clever (NIST SP 800-63B): no composition rules; the cap bounds hashing work.
NewPassword = Annotated[str, Field(min_length=12, max_length=128)]


class StaffIn(BaseModel):
    """A new account. Without `password` the server generates one and shows it once."""

    staff_id: StaffId
    department: str
    title: Title
    password: NewPassword | None = None


class StaffOut(BaseModel):
    staff_id: str
    department: str
    title: str
    created_at: datetime


class StaffCreated(StaffOut):
    initial_password: str | None  # only when the server generated it; not stored in clear anywhere


class PasswordResetIn(BaseModel):
    """A new password set by an administrator; without `password` the server generates one."""

    password: NewPassword | None = None


class PasswordReset(BaseModel):
    staff_id: str
    initial_password: str | None


class PasswordChangeIn(BaseModel):
    """One's own new password, given with the current one (a session alone does not change it)."""

    current_password: Annotated[str, Field(min_length=1, max_length=128)]
    new_password: NewPassword


class LoginIn(BaseModel):
    staff_id: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=128)]


class SessionOut(BaseModel):
    token: str
    expires_at: datetime
    staff: StaffOut


class CurrentSessionOut(BaseModel):
    expires_at: datetime
    staff: StaffOut
