"""Protection decisions as the 生活福祉課 records them."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from municipality.city.registry.schemas import ResidentCode


class WelfareCaseIn(BaseModel):
    head_code: ResidentCode  # the head of the protected household
    status: Literal["receiving", "suspended", "discontinued"]
    monthly_amount: int = Field(ge=0, le=10_000_000)
    started_on: date


class RecordCasesRequest(BaseModel):
    cases: list[WelfareCaseIn] = Field(min_length=1, max_length=100_000)
