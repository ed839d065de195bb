"""What a resident sees of their own information at one city: each item with its source date."""

from datetime import date

from pydantic import BaseModel


class OwnItem(BaseModel):
    item_code: str
    name: str  # as the whitelist names it, e.g. 総所得金額等（地方税関係情報）
    period: str  # tax year, month or date, as the item's catalogue entry says
    value: int | str | bool
    as_of: date  # the date the city's source system gave the value


class NamedItem(BaseModel):
    code: str
    name: str


class OwnInformationOut(BaseModel):
    query_id: str  # the broker's: the same id names this provision in the resident's records
    institution_code: str
    items: list[OwnItem]
    missing_items: list[NamedItem]  # disclosable, but the city holds no copy of them
