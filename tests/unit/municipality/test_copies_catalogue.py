"""The DBM item catalogue (items.yaml) and the row checks built on it, without a network."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from municipality.intermediate.copies.catalogue import (
    CATALOGUE_FILE,
    FIELDS,
    CatalogueError,
    check_rows,
    load_item_catalogue,
    number_like,
)
from municipality.intermediate.copies.schemas import CopyRow, decode_copy_batch

WHITELIST_FILE = Path(__file__).parents[3] / "broker" / "whitelist" / "whitelist.yaml"
TODAY = date(2026, 3, 15)
SEPARATORS = ["", " ", "-", "　", "－", "‐", "ー"]


def test_catalogue_names_for_each_item_exactly_the_procedures_the_whitelist_lets_ask_a_city() -> None:
    whitelist = yaml.safe_load(WHITELIST_FILE.read_text(encoding="utf-8"))
    allowed: dict[str, set[str]] = {}
    for entry in whitelist["rows"]:
        if "municipality" in entry["providers"]:
            for item in entry["items"]:
                allowed.setdefault(item, set()).add(entry["procedure"])

    catalogue = load_item_catalogue()

    assert {code: set(item.procedures) for code, item in catalogue.items.items()} == {
        code: allowed[code] for code in catalogue.items
    }


def test_catalogue_gives_every_item_a_source_schedule_period_and_value_shape() -> None:
    catalogue = load_item_catalogue()

    assert {item.schedule for item in catalogue.items.values()} == {"daily", "monthly", "on_change"}
    assert {(c, i.source, i.schedule, i.period, i.value.type) for c, i in catalogue.items.items()} >= {
        ("tax.taxable_income", "individual_resident_tax", "daily", "tax_year", "integer"),
        ("tax.exemption_status", "individual_resident_tax", "daily", "tax_year", "boolean"),
        ("welfare.protection_status", "welfare", "monthly", "month", "enum"),
        ("nhi.enrollment", "national_health_insurance", "on_change", "date", "enum"),
    }
    assert catalogue.kept_tax_years(TODAY) == range(2021, 2027)  # the current tax year and five before


@pytest.mark.parametrize(
    ("code", "entry_change", "message"),
    [
        ("resident.birth_date", {}, "basic four"),
        ("resident.kind", {"name": "氏名"}, "basic four"),
        ("resident.my_number", {}, "basic four"),
        ("tax.big", {"value": {"type": "integer", "max": 999_999_999_999}}, "12 digits"),
        ("tax.note", {"value": {"type": "text", "max_length": 5_000}}, "short"),
        ("tax.when", {"schedule": "weekly"}, "schedule"),
        ("tax.who", {"procedures": []}, "procedures"),
    ],
)
def test_catalogue_that_could_hold_what_rule_1_forbids_is_refused_at_load(
    tmp_path: Path, code: str, entry_change: dict[str, Any], message: str
) -> None:
    raw = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    raw["items"][code] = {**raw["items"]["tax.taxable_income"], **entry_change}
    path = tmp_path / "items.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    with pytest.raises(CatalogueError, match=message):
        load_item_catalogue(path)


@given(
    before=st.text(alphabet="世帯主妻子・ab ", max_size=8),
    groups=st.lists(st.from_regex(r"[0-9]{4}", fullmatch=True), min_size=3, max_size=3),
    separator=st.sampled_from(SEPARATORS),
    full_width=st.booleans(),
)
def test_any_twelve_digits_in_groups_of_four_are_number_like(
    before: str, groups: list[str], separator: str, full_width: bool
) -> None:
    number = separator.join(groups)
    if full_width:
        number = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert number_like(f"{before}{number}")


@given(st.text(alphabet="0123456789世帯主妻子", max_size=40))
def test_text_whose_digit_runs_are_shorter_than_twelve_is_not_number_like(text: str) -> None:
    runs = "".join(ch if ch.isdigit() else " " for ch in text).split()
    assert number_like(text) == any(len(run) >= 12 for run in runs)


def test_rows_are_checked_field_by_field_and_every_problem_is_counted() -> None:
    catalogue = load_item_catalogue()
    good = {
        "address_number": "900000000000001",
        "item_code": "tax.income_levy",
        "period": "2025",
        "value": 10,
        "as_of": "2026-03-14",
    }
    rows: list[Any] = [
        good,
        {**good, "address_number": "900000000000002", "period": "2020", "value": 1.5, "as_of": "2026-02-30"},
        {k: v for k, v in good.items() if k != "value"} | {"address_number": "900000000000003"},
        good,
    ]

    checked, report = check_rows(catalogue, "individual_resident_tax", rows, TODAY)

    assert [(e["index"], e["field"], e["code"]) for e in report.errors] == [
        (1, "period", "tax_year_not_kept"),
        (1, "value", "value_type"),
        (1, "as_of", "invalid"),
        (2, "value", "missing"),
        (3, "", "duplicate_row"),
    ]
    assert report.count == 5
    assert list(checked.rows()) == [("900000000000001", "tax.income_levy", "2025", 10, date(2026, 3, 14))]


@pytest.mark.parametrize(
    ("item_code", "period", "value", "problem"),
    [
        ("welfare.protection_status", "2026-03", "receiving", None),
        ("welfare.protection_status", "2026-04", "receiving", "period_in_future"),
        ("welfare.protection_status", "2026-13", "receiving", "period_invalid"),
        ("welfare.protection_status", "2026-03", "rich", "value_not_allowed"),
        ("child_allowance.payment", "2026-02", 15_000, None),
        ("child_allowance.payment", "2026-02", 20_000_000, "value_out_of_range"),
    ],
)
def test_monthly_items_take_a_month_and_their_own_value_shape(
    item_code: str, period: str, value: Any, problem: str | None
) -> None:
    catalogue = load_item_catalogue()
    source = catalogue.items[item_code].source
    row = {"address_number": "900000000000001", "item_code": item_code, "period": period, "value": value}

    _checked, report = check_rows(catalogue, source, [row | {"as_of": "2026-03-01"}], TODAY)

    assert [e["code"] for e in report.errors] == ([] if problem is None else [problem])


# Rows of 個人住民税 that fit the catalogue (two items, two kept years; few addresses, so some rows
# collide), and for each field values that do not fit or are not even of its JSON type: a body
# made of them decodes straight into CopyRow objects when its shape allows, else as plain JSON.
GOOD_ROWS = st.fixed_dictionaries(
    {
        "address_number": st.sampled_from([f"90000000000000{n}" for n in range(4)]),
        "period": st.sampled_from(["2025", "2026"]),
        "as_of": st.sampled_from(["2026-03-14", "2026-03-16"]),
    }
).flatmap(
    lambda row: st.one_of(
        st.builds(lambda value: row | {"item_code": "tax.income_levy", "value": value}, st.integers(0, 10**6)),
        st.builds(lambda value: row | {"item_code": "tax.exemption_status", "value": value}, st.booleans()),
    )
)
BAD_VALUES: dict[str, list[Any]] = {
    "address_number": ["90000000000000", "９00000000000001", "90000000000000a", 900000000000001, None],
    "item_code": ["welfare.protection_status", "tax.church_tax", 7],
    "period": ["2020", "2027", "2026-03", "R7", 2025],
    "value": [-1, 100_000_000_000, 1, True, "10", 1.5, None, [1]],
    "as_of": ["2026-03-17", "2026/03/14", "2026-02-30", "", 20260314],
    "name": ["山田太郎"],
}


@given(data=st.data())
def test_a_batch_is_judged_alike_whether_its_body_decoded_into_typed_rows_or_plain_json(data: st.DataObject) -> None:
    rows: list[Any] = data.draw(st.lists(GOOD_ROWS, min_size=1, max_size=8))
    for _ in range(data.draw(st.integers(0, 2))):
        index = data.draw(st.integers(0, len(rows) - 1))
        change = data.draw(st.sampled_from([*BAD_VALUES, "drop a field", "not an object"]))
        if change == "not an object" or not isinstance(rows[index], dict):
            rows[index] = "not an object"
        elif change == "drop a field":
            dropped = data.draw(st.sampled_from(sorted(FIELDS)))
            rows[index] = {k: v for k, v in rows[index].items() if k != dropped}
        else:
            rows[index] = rows[index] | {change: data.draw(st.sampled_from(BAD_VALUES[change]))}
    catalogue, source = load_item_catalogue(), "individual_resident_tax"
    body = json.dumps({"source": source, "copies": rows}).encode()
    plain, fast = json.loads(body), decode_copy_batch(body)

    decoded = [msgspec.structs.asdict(row) if isinstance(row, CopyRow) else row for row in fast["copies"]]
    assert fast["source"] == plain["source"]
    assert json.dumps(decoded, sort_keys=True) == json.dumps(plain["copies"], sort_keys=True)  # True is not 1 here
    checked, report = check_rows(catalogue, source, fast["copies"], TODAY)
    expected_checked, expected_report = check_rows(catalogue, source, plain["copies"], TODAY)
    assert (report.count, report.errors) == (expected_report.count, expected_report.errors)
    assert list(checked.rows()) == list(expected_checked.rows())
    assert checked.items == expected_checked.items
