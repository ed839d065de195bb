"""Administrator accounts as the operator creates and lists them."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

AdminId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,31}$")]


class AdministratorIn(BaseModel):
    admin_id: AdminId
    name: str = Field(min_length=1, max_length=100)


class AdministratorOut(BaseModel):
    admin_id: str
    name: str
    created_at: datetime


class IssuedAdministrator(AdministratorOut):
    """Returned once, when the account is created: the broker keeps only the token's hash."""

    token: str
