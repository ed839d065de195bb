"""DBM: the item catalogue (items.yaml) and the checks every pushed copy (副本) must pass.

The catalogue is the only place that says which items exist, which city system pushes each, on
what schedule, and what shape its period and value take. A batch row is checked against it field
by field; every problem is reported as `{index, field, code, message}` and none echoes the value
(a refused value may be exactly what must not spread, e.g. an individual number).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import compress
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import msgspec
import yaml

from municipality.intermediate.copies.schemas import CopyRow

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
T = TypeVar("T")


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

    def all_fit(self, values: list[Any]) -> bool:
        """Whether `problem` finds nothing in any of `values`: integers (most copies) by compiled
        passes over the column, other values once per distinct value of each type (True == 1)."""
        if self.type == "integer":
            return set(map(type, values)) == {int} and self.minimum <= min(values) and max(values) <= self.maximum
        return all(self.problem(value) is None for _type, value in set(zip(map(type, values), values, strict=True)))


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


def without_number(text: str) -> str:
    """A pydantic validator for free text staff write: no individual number may enter through it
    (rule 1), as for the copies' text items."""
    if number_like(text):
        raise ValueError("must not contain 12 digits in a row (an individual number may not be sent)")
    return text


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


# A row that passed every check: (address_number, item_code, period, value, as_of).
CheckedCopy = tuple[str, str, str, int | str | bool, date]


@dataclass(frozen=True)
class ItemRows:
    """What a checked batch holds of one item: which copies it may replace, and its refresh."""

    rows: int
    periods: frozenset[str]
    newest_as_of: date


@dataclass(frozen=True)
class CheckedBatch:
    """A batch whose every row passed, as one list per field in row order, and its rows per item.
    A whole city's batch is 150,000+ rows: columns are checked and written by compiled loops (map,
    zip, set, min), where Python work per row would cost more than the database's."""

    address_numbers: list[str]
    item_codes: list[str]
    periods: list[str]
    values: list[int | str | bool]
    as_ofs: list[date]
    items: dict[str, ItemRows]

    @classmethod
    def of_rows(cls, rows: list[CheckedCopy]) -> CheckedBatch:
        items: dict[str, ItemRows] = {}
        for item_code in {row[1] for row in rows}:
            mine = [row for row in rows if row[1] == item_code]
            items[item_code] = ItemRows(len(mine), frozenset(row[2] for row in mine), max(row[4] for row in mine))
        return cls(
            [row[0] for row in rows],
            [row[1] for row in rows],
            [row[2] for row in rows],
            [row[3] for row in rows],
            [row[4] for row in rows],
            items,
        )

    def __len__(self) -> int:
        return len(self.address_numbers)

    def rows(self) -> Iterator[CheckedCopy]:
        return zip(self.address_numbers, self.item_codes, self.periods, self.values, self.as_ofs, strict=True)


@dataclass
class RowReport:
    """Every problem found in a batch: the first MAX_REPORTED_ERRORS in full, and the total."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, index: int, field_name: str, code: str, message: str) -> None:
        self.count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"index": index, "field": field_name, "code": code, "message": message})


def check_rows(
    catalogue: ItemCatalogue, source: str, rows: Sequence[Any], today: date
) -> tuple[CheckedBatch, RowReport]:
    """Check every row of a batch pushed by `source`; the rows come back as columns when all pass.

    A well-formed body arrives as CopyRow objects (see `decode_copy_batch`) and is checked whole
    columns at a time, which a whole city's batch needs: even a bare per-row loop over CopyRow
    objects was measured at half as much again. A batch that fails that, or arrived as plain
    JSON, is checked row by row, field by field, for the report.
    """
    if set(map(type, rows)) == {CopyRow}:
        checked = _checked_columns(catalogue, source, rows, today)
        if checked is not None:
            return checked, RowReport()
        rows = [msgspec.structs.asdict(row) for row in rows]  # what json.loads makes of them
    report = RowReport()
    accepted: list[CheckedCopy] = []
    first_seen: dict[tuple[str, str, str], int] = {}
    for index, row in enumerate(rows):
        copy = _check_row(catalogue, source, index, row, today, report)
        if copy is None:
            continue
        first = first_seen.setdefault(copy[:3], index)
        if first != index:
            report.add(index, "", "duplicate_row", f"Row {first} already carries this address number, item and period.")
            continue
        accepted.append(copy)
    return CheckedBatch.of_rows(accepted), report


def _checked_columns(
    catalogue: ItemCatalogue, source: str, rows: Sequence[CopyRow], today: date
) -> CheckedBatch | None:
    """The batch as columns when every row passes every check of `_check_row`, else None.

    CopyRow guarantees the fields and their JSON types. The rest is checked item by item (a source
    pushes a few): each distinct period and as_of once, the values and keys by compiled passes."""
    address_numbers = [row.address_number for row in rows]
    item_codes = _shared([row.item_code for row in rows])
    periods = _shared([row.period for row in rows])
    values = [row.value for row in rows]
    as_of_texts = [row.as_of for row in rows]
    digits = "".join(address_numbers)  # tested as bytes: ASCII digits only, and ten times quicker than str's
    if set(map(len, address_numbers)) != {15} or not (digits.isascii() and digits.encode().isdigit()):
        return None
    as_of_dates: dict[str, date] = {}
    for as_of_text in set(as_of_texts):
        as_of = _iso_date(as_of_text)
        if as_of is None or as_of > _latest_as_of(today):
            return None
        as_of_dates[as_of_text] = as_of
    batch_items = set(item_codes)
    items: dict[str, ItemRows] = {}
    for item_code in batch_items:
        item = catalogue.items.get(item_code)
        if item is None or item.source != source:
            return None
        mine = None if len(batch_items) == 1 else list(map(item_code.__eq__, item_codes))
        item_addresses, item_periods = _selected(address_numbers, mine), _selected(periods, mine)
        item_values, item_as_ofs = _selected(values, mine), _selected(as_of_texts, mine)
        distinct_periods = set(item_periods)
        if any(_period_problem(catalogue, item, period, today) is not None for period in distinct_periods):
            return None
        if not item.value.all_fit(item_values):
            return None
        # Rows of one period (the usual push) are unique by their address numbers alone.
        keys = item_addresses if len(distinct_periods) == 1 else zip(item_addresses, item_periods, strict=True)
        if len(set(keys)) != len(item_addresses):
            return None
        distinct_as_ofs = as_of_dates if mine is None else set(item_as_ofs)
        newest_as_of = max(as_of_dates[as_of_text] for as_of_text in distinct_as_ofs)
        items[item_code] = ItemRows(len(item_addresses), frozenset(distinct_periods), newest_as_of)
    as_ofs = list(map(as_of_dates.__getitem__, as_of_texts))
    return CheckedBatch(address_numbers, item_codes, periods, values, as_ofs, items)


def _shared(column: list[str]) -> list[str]:
    """The column with each distinct string as one object. A batch repeats a few item codes and
    periods 150,000 times; as one object each they stay in the CPU's caches while the database
    binds them, which makes the insert markedly quicker than with a copy per row."""
    if column.count(column[0]) == len(column):  # the usual push: one item, one period
        return [column[0]] * len(column)
    one_each = {text: text for text in set(column)}
    return list(map(one_each.__getitem__, column))


def _selected(column: list[T], mask: list[bool] | None) -> list[T]:
    """The column's entries where the mask is true; all of it without a mask."""
    return column if mask is None else list(compress(column, mask))


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
