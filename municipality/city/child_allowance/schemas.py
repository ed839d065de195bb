"""Child allowance decisions as the 子育て支援課 records them."""

from pydantic import BaseModel, Field

from municipality.city.registry.schemas import ResidentCode


class RecipientIn(BaseModel):
    recipient_code: ResidentCode
    children: int = Field(ge=0, le=20)  # 0: the allowance ended
    monthly_amount: int = Field(ge=0, le=1_000_000)


class RecordRecipientsRequest(BaseModel):
    recipients: list[RecipientIn] = Field(min_length=1, max_length=200_000)
