"""DBM: the item catalogue (items.yaml) and the checks every pushed copy (副本) must pass.

The catalogue is the only place that says which items exist, which city system pushes each, on
what schedule, and what shape its period and value take. A batch row is checked against it field
by field; every problem is reported as `{index, field, code, message}` and none echoes the value
(a refused value may be exactly what must not spread, e.g. an individual number).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import yaml

CATALOGUE_FILE = Path(__file__).with_name("items.yaml")

Schedule = Literal["daily", "monthly", "on_change"]
PeriodKind = Literal["tax_year", "month", "date"]
ValueType = Literal["integer", "boolean", "enum", "text"]

SCHEDULES: dict[str, timedelta | None] = {"daily": timedelta(days=1), "monthly": timedelta(days=31), "on_change": None}
PERIOD_KINDS = ("tax_year", "month", "date")
VALUE_TYPES = ("integer", "boolean", "enum", "text")
FIELDS = frozenset({"address_number", "item_code", "period", "value", "as_of"})

# Rule 1: none of these may be an item. Checked on the catalogue's codes and names at load.
FORBIDDEN_ITEM = re.compile(
    r"name|address|sex|gender|birth|individual_number|my_number|氏名|名前|住所|性別|生年月日|個人番号", re.IGNORECASE
)
# An individual number is 12 digits; people write it in groups of four. After NFKC (full-width
# digits and hyphens become ASCII) any run of 12 digits, with or without such separators, is
# refused: a typo'd number is still a number, and no coded value needs 12 digits.
NUMBER_LIKE = re.compile(r"\d{4}[\s\-‐‑‒–—―ー・.]?\d{4}[\s\-‐‑‒–—―ー・.]?\d{4}")
# Integers stay below 12 digits for the same reason.
LARGEST_INTEGER = 99_999_999_999
ADDRESS_NUMBER = re.compile(r"[0-9]{15}")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ISO_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
TAX_YEAR = re.compile(r"[0-9]{4}")
MAX_REPORTED_ERRORS = 100


class CatalogueError(ValueError):
    """items.yaml says something the server must not run with."""


@dataclass(frozen=True)
class ValueRule:
    """The shape of an item's value: integer (min, max), boolean, enum (values) or short text."""

    type: ValueType
    minimum: int = 0
    maximum: int = LARGEST_INTEGER
    values: frozenset[str] = frozenset()
    max_length: int = 0

    def problem(self, value: Any) -> tuple[str, str] | None:
        """(code, message) when `value` does not fit, else None."""
        if self.type == "integer":
            if type(value) is not int:
                return "value_type", "The value must be an integer."
            if not self.minimum <= value <= self.maximum:
                return "value_out_of_range", f"The value must be between {self.minimum} and {self.maximum}."
        elif self.type == "boolean":
            if type(value) is not bool:
                return "value_type", "The value must be true or false."
        elif self.type == "enum":
            if type(value) is not str or value not in self.values:
                return "value_not_allowed", f"The value must be one of {', '.join(sorted(self.values))}."
        else:
            if type(value) is not str:
                return "value_type", "The value must be a string."
            if not value.strip() or len(value) > self.max_length:
                return "value_length", f"The text must have 1 to {self.max_length} characters."
            if number_like(value):
                return (
                    "number_like_text",
                    "The text carries a 12-digit number: no individual number may enter (rule 1).",
                )
        return None


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    source: str
    schedule: Schedule
    period: PeriodKind
    value: ValueRule
    procedures: tuple[str, ...]


@dataclass(frozen=True)
class ItemCatalogue:
    items: dict[str, Item]
    sources: dict[str, str]
    max_batch_rows: int
    tax_years_kept: int
    grace: timedelta

    def kept_tax_years(self, today: date) -> range:
        """The current tax year and the `tax_years_kept` before it."""
        return range(today.year - self.tax_years_kept, today.year + 1)

    def allowed_age(self, item: Item) -> timedelta | None:
        """How old the item's last push may be before it is overdue; None: never overdue."""
        interval = SCHEDULES[item.schedule]
        return None if interval is None else interval + self.grace

    def __contains__(self, item_code: object) -> bool:
        return item_code in self.items


def number_like(text: str) -> bool:
    return NUMBER_LIKE.search(unicodedata.normalize("NFKC", text)) is not None


def load_item_catalogue(path: Path = CATALOGUE_FILE) -> ItemCatalogue:
    """Read items.yaml, refusing a catalogue that breaks rule 1 or names an unknown schedule."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources: dict[str, str] = dict(raw["sources"])
    items: dict[str, Item] = {}
    for code, entry in raw["items"].items():
        if FORBIDDEN_ITEM.search(code) or FORBIDDEN_ITEM.search(entry["name"]):
            raise CatalogueError(f"{code}: an item may not be an identifier or one of the basic four (rule 1)")
        if entry["source"] not in sources:
            raise CatalogueError(f"{code}: unknown source system {entry['source']}")
        if entry["schedule"] not in SCHEDULES:
            raise CatalogueError(f"{code}: schedule must be one of {', '.join(SCHEDULES)}")
        if entry["period"] not in PERIOD_KINDS:
            raise CatalogueError(f"{code}: period must be one of {', '.join(PERIOD_KINDS)}")
        if not entry.get("procedures"):
            raise CatalogueError(f"{code}: name the procedures that may ask for it")
        items[code] = Item(
            code=code,
            name=entry["name"],
            source=entry["source"],
            schedule=entry["schedule"],
            period=entry["period"],
            value=_value_rule(code, entry["value"]),
            procedures=tuple(entry["procedures"]),
        )
    return ItemCatalogue(
        items=items,
        sources=sources,
        max_batch_rows=int(raw["max_batch_rows"]),
        tax_years_kept=int(raw["tax_years_kept"]),
        grace=timedelta(hours=float(raw["grace_hours"])),
    )


def _value_rule(code: str, entry: dict[str, Any]) -> ValueRule:
    kind = entry.get("type")
    if kind not in VALUE_TYPES:
        raise CatalogueError(f"{code}: value type must be one of {', '.join(VALUE_TYPES)}")
    if kind == "integer":
        rule = ValueRule("integer", minimum=int(entry.get("min", 0)), maximum=int(entry.get("max", LARGEST_INTEGER)))
        if rule.maximum > LARGEST_INTEGER:
            raise CatalogueError(f"{code}: integers must stay below 12 digits (rule 1)")
        return rule
    if kind == "enum":
        values = frozenset(str(v) for v in entry.get("values", ()))
        if not values:
            raise CatalogueError(f"{code}: an enum needs values")
        return ValueRule("enum", values=values)
    if kind == "text":
        max_length = int(entry.get("max_length", 0))
        if not 0 < max_length <= 200:
            raise CatalogueError(f"{code}: text must be short (max_length 1..200)")
        return ValueRule("text", max_length=max_length)
    return ValueRule("boolean")


# A row that passed every check: (address_number, item_code, period, value, as_of). A plain
# tuple, not a class: a whole city's batch makes 150,000 of them.
CheckedCopy = tuple[str, str, str, int | str | bool, date]


@dataclass
class RowReport:
    """Every problem found in a batch: the first MAX_REPORTED_ERRORS in full, and the total."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, index: int, field_name: str, code: str, message: str) -> None:
        self.count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"index": index, "field": field_name, "code": code, "message": message})


_UNSEEN: Any = object()


def check_rows(
    catalogue: ItemCatalogue, source: str, rows: Sequence[Any], today: date
) -> tuple[list[CheckedCopy], RowReport]:
    """Check every row of a batch pushed by `source`; the rows come back typed when all pass.

    A whole city's batch must cost little more than writing it, so a well-formed row takes a fast
    path: a batch holds few distinct (item, period, as_of) triples, each checked once, leaving a
    few comparisons per row. Any row that fails it is checked again field by field for the report.
    (Checking whole columns at once instead was measured: no faster.)
    """
    report = RowReport()
    checked: list[CheckedCopy] = []
    first_seen: dict[tuple[Any, ...], int] = {}
    triples: dict[tuple[Any, Any, Any], date | None] = {}
    value_problem = {code: item.value.problem for code, item in catalogue.items.items() if item.source == source}
    integer_range = {
        code: (item.value.minimum, item.value.maximum)
        for code, item in catalogue.items.items()
        if item.value.type == "integer"
    }
    for index, row in enumerate(rows):
        copy = None
        try:
            if row.keys() == FIELDS:
                address_number, item_code, period = row["address_number"], row["item_code"], row["period"]
                triple = (item_code, period, row["as_of"])
                as_of = triples.get(triple, _UNSEEN)
                if as_of is _UNSEEN:
                    as_of = triples[triple] = _triple_date(catalogue, source, triple, today)
                value = row["value"]
                bounds = integer_range.get(item_code)
                if (
                    as_of is not None
                    and type(address_number) is str
                    and len(address_number) == 15
                    and address_number.isascii()
                    and address_number.isdigit()
                    and (
                        type(value) is int and bounds[0] <= value <= bounds[1]
                        if bounds is not None
                        else value_problem[item_code](value) is None
                    )
                ):
                    copy = (address_number, item_code, period, value, as_of)
        except (AttributeError, TypeError):  # not an object, or a list where a string belongs
            pass
        if copy is None:
            copy = _check_row(catalogue, source, index, row, today, report)
            if copy is None:
                continue
        first = first_seen.setdefault(copy[:3], index)
        if first != index:
            report.add(index, "", "duplicate_row", f"Row {first} already carries this address number, item and period.")
            continue
        checked.append(copy)
    return checked, report


def _triple_date(catalogue: ItemCatalogue, source: str, triple: tuple[Any, Any, Any], today: date) -> date | None:
    """The as_of date when the item belongs to `source` and period and as_of are good, else None."""
    item_code, period, as_of_text = triple
    item = catalogue.items.get(item_code) if type(item_code) is str else None
    if item is None or item.source != source or type(period) is not str or type(as_of_text) is not str:
        return None
    as_of = _iso_date(as_of_text)
    if _period_problem(catalogue, item, period, today) is not None or as_of is None or as_of > _latest_as_of(today):
        return None
    return as_of


def _latest_as_of(today: date) -> date:
    return today + timedelta(days=1)  # the source's date may run ahead of ours by a time zone


def _check_row(
    catalogue: ItemCatalogue, source: str, index: int, row: Any, today: date, report: RowReport
) -> CheckedCopy | None:
    """Every problem of one row, into the report; the typed row if it has none."""
    if not isinstance(row, dict):
        report.add(index, "", "row_not_object", "Each copy must be a JSON object.")
        return None
    problems_before = report.count
    for extra in sorted(str(key) for key in row.keys() - FIELDS):
        report.add(index, extra, "unexpected_field", f"Copies carry only {', '.join(sorted(FIELDS))}.")
    address_number = row.get("address_number")
    if type(address_number) is not str or not ADDRESS_NUMBER.fullmatch(address_number):
        report.add(index, "address_number", _missing_or("invalid", "address_number" in row), "15 digits expected.")
    item_code = row.get("item_code")
    item = catalogue.items.get(item_code) if type(item_code) is str else None
    if item is None:
        code = _missing_or("unknown_item", "item_code" in row)
        report.add(index, "item_code", code, "The item is not in the catalogue (items.yaml).")
    elif item.source != source:
        report.add(index, "item_code", "item_not_from_source", f"{item.source} pushes {item.code}, not {source}.")
        item = None  # its period and value are another system's business
    period = row.get("period")
    if type(period) is not str:
        report.add(index, "period", _missing_or("invalid", "period" in row), "The period must be a string.")
    elif item is not None:
        problem = _period_problem(catalogue, item, period, today)
        if problem is not None:
            report.add(index, "period", *problem)
    if "value" not in row:
        report.add(index, "value", "missing", "Each copy needs a value.")
    elif item is not None:
        problem = item.value.problem(row["value"])
        if problem is not None:
            report.add(index, "value", *problem)
    as_of_text = row.get("as_of")
    as_of = _iso_date(as_of_text) if type(as_of_text) is str else None
    if as_of is None:
        code = "invalid" if "as_of" in row else "missing"
        report.add(index, "as_of", code, "The source's date, YYYY-MM-DD.")
    elif as_of > _latest_as_of(today):
        report.add(index, "as_of", "as_of_in_future", "The source's date lies in the future.")
    if report.count != problems_before or as_of is None:
        return None
    return (cast(str, address_number), cast(str, item_code), cast(str, period), row["value"], as_of)


def _missing_or(code: str, present: bool) -> str:
    return code if present else "missing"


def _iso_date(text: str) -> date | None:
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _period_problem(catalogue: ItemCatalogue, item: Item, period: str, today: date) -> tuple[str, str] | None:
    if item.period == "tax_year":
        if not TAX_YEAR.fullmatch(period):
            return "period_invalid", "A tax year, YYYY."
        kept = catalogue.kept_tax_years(today)
        if int(period) not in kept:
            return "tax_year_not_kept", f"Tax years {kept.start}–{kept.stop - 1} are kept."
        return None
    if item.period == "month":
        parsed = _iso_date(f"{period}-01") if ISO_MONTH.fullmatch(period) else None
        if parsed is None:
            return "period_invalid", "A month, YYYY-MM."
        if parsed > today:
            return "period_in_future", "The month has not begun."
        return None
    parsed = _iso_date(period)
    if parsed is None:
        return "period_invalid", "A date, YYYY-MM-DD."
    if parsed > today + timedelta(days=1):
        return "period_in_future", "The date lies in the future."
    return None
