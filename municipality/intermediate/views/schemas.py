"""What a staff member reads of the city's own copies (副本) of a person."""

from datetime import date

from pydantic import BaseModel

from municipality.intermediate.copies.schemas import Scalar


class ViewedItem(BaseModel):
    item_code: str
    period: str
    value: Scalar
    as_of: date


class CopiesView(BaseModel):
    address_number: str
    items: list[ViewedItem]  # the latest period of each requested item the city holds
    missing_items: list[str]  # requested, permitted, but no copy held
