"""Enrolments and withdrawals as the 保険年金課 records them."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from municipality.city.registry.schemas import ResidentCode


class EnrollmentIn(BaseModel):
    resident_code: ResidentCode
    status: Literal["enrolled", "withdrawn"]
    changed_on: date


class RecordEnrollmentsRequest(BaseModel):
    enrollments: list[EnrollmentIn] = Field(min_length=1, max_length=200_000)
