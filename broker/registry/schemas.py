"""Registry requests and the public directory entries."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,32}$")]
Kind = Literal["municipality", "jlis", "broker", "portal", "national_agency", "prefecture"]
ComponentName = Literal["city", "intermediate", "jlis", "broker", "portal"]
PublicKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$")]


class ComponentIn(BaseModel):
    component: ComponentName
    base_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+$")]
    signing_public_key: PublicKey
    encryption_public_key: PublicKey


class InstitutionIn(BaseModel):
    code: Code
    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    components: list[ComponentIn] = Field(min_length=1, max_length=8)


class ComponentOut(BaseModel):
    key_id: str
    component: str
    base_url: str
    signing_public_key: str
    encryption_public_key: str


class InstitutionOut(BaseModel):
    code: str
    name: str
    kind: str
    components: list[ComponentOut]


class KeyAnnouncement(BaseModel):
    """A component's next key pair and when it takes over (now when omitted; a past time retires
    the older keys sooner, e.g. after a compromise)."""

    signing_public_key: PublicKey
    encryption_public_key: PublicKey
    activates_at: AwareDatetime | None = None


class KeyGenerationOut(BaseModel):
    key_id: str
    generation: int
    signing_public_key: str
    encryption_public_key: str
    activates_at: datetime
    retires_at: datetime | None
    status: Literal["announced", "active", "retired"]
