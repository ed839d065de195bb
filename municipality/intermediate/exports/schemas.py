"""Bulk export: the request (an approval to use) and the rows it returns."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from municipality.intermediate.copies.schemas import Scalar


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approval_id: int
    format: Literal["json", "csv"] = "json"


class ExportRow(BaseModel):
    address_number: str
    item_code: str
    period: str
    value: Scalar
    as_of: date


class ExportOut(BaseModel):
    approval_id: int
    item_codes: list[str]
    people: int  # the approved address numbers, held copies or not
    rows: list[ExportRow]
