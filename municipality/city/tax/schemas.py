"""Tax assessment requests."""

from pydantic import BaseModel, Field

from municipality.city.registry.schemas import ResidentCode


class AssessmentIn(BaseModel):
    resident_code: ResidentCode
    tax_year: int = Field(ge=2000, le=2100)
    taxable_income: int = Field(ge=0)
    income_levy: int = Field(ge=0)


class RegisterAssessmentsRequest(BaseModel):
    assessments: list[AssessmentIn] = Field(min_length=1, max_length=200_000)


class RegisterAssessmentsResponse(BaseModel):
    assessments: int
    copies_registered: int
