"""The whitelist (番号法 別表第二) as data: a query is answered only when one row in force covers
its requester, procedure, provider and every item (rule 4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from textwrap import dedent

import pytest

from broker.config import WHITELIST_FILE
from broker.whitelist.service import Whitelist
from services.whitelist import WhitelistRow

IN_FORCE = date(2026, 10, 1)


@pytest.fixture(scope="module")
def whitelist() -> Whitelist:
    return Whitelist.load(WHITELIST_FILE)


def child_allowance_query(
    whitelist: Whitelist,
    *,
    procedure: str = "child_allowance.certification",
    requester_kind: str = "municipality",
    provider_kind: str = "municipality",
    items: tuple[str, ...] = ("tax.taxable_income", "tax.income_levy"),
    on: date = IN_FORCE,
) -> WhitelistRow | None:
    """東村山市 asks 小平市, by default for income under 児童手当の認定."""
    return whitelist.row_for(
        requester_code="132136",
        requester_kind=requester_kind,
        procedure=procedure,
        provider_code="132110",
        provider_kind=provider_kind,
        items=items,
        on=on,
    )


def write_whitelist(directory: Path, row: str) -> Path:
    path = directory / "whitelist.yaml"
    header = """\
        version: "test"
        items:
          tax.taxable_income: 総所得金額等
        procedures:
          child_allowance.certification: 児童手当の認定
        rows:
    """
    path.write_text(dedent(header) + dedent(row), encoding="utf-8")
    return path


def test_shipped_whitelist_loads_with_its_rows(whitelist: Whitelist) -> None:
    assert whitelist.version == "2026-10-01"
    assert len(whitelist.rows) >= 15
    assert len({row.row_id for row in whitelist.rows}) == len(whitelist.rows)
    assert all(row.items <= set(whitelist.items) for row in whitelist.rows)


def test_row_covers_query_by_requester_kind_procedure_provider_kind_and_items(whitelist: Whitelist) -> None:
    row = child_allowance_query(whitelist)

    assert row is not None
    assert row.row_id == "R001"
    assert row.procedure == "child_allowance.certification"


def test_row_covers_a_subset_of_its_items(whitelist: Whitelist) -> None:
    row = child_allowance_query(whitelist, items=("tax.exemption_status",))

    assert row is not None
    assert row.row_id == "R001"


def test_query_with_an_item_not_on_the_row_is_refused(whitelist: Whitelist) -> None:
    assert child_allowance_query(whitelist, items=("tax.taxable_income", "welfare.protection_status")) is None


def test_query_whose_items_need_two_rows_is_refused(whitelist: Whitelist) -> None:
    # R001 grants income and R002 the household, but no single row grants both at once.
    assert child_allowance_query(whitelist, items=("tax.taxable_income", "resident.household")) is None


def test_query_under_a_procedure_no_row_lists_is_refused(whitelist: Whitelist) -> None:
    # The city's own programme is named (so records read well) but is not in 別表第二.
    assert all(row.procedure != "child_medical_subsidy.certification" for row in whitelist.rows)
    assert child_allowance_query(whitelist, procedure="child_medical_subsidy.certification") is None


def test_query_under_a_procedure_the_whitelist_does_not_know_is_refused(whitelist: Whitelist) -> None:
    assert "pet.licence" not in whitelist.procedures
    assert child_allowance_query(whitelist, procedure="pet.licence") is None


def test_query_from_or_to_an_institution_kind_not_on_the_row_is_refused(whitelist: Whitelist) -> None:
    assert child_allowance_query(whitelist, requester_kind="national_agency") is None
    assert child_allowance_query(whitelist, provider_kind="national_agency") is None


def test_query_dated_before_the_row_is_in_force_is_refused(whitelist: Whitelist) -> None:
    assert child_allowance_query(whitelist, on=date(2017, 7, 18)) is not None
    assert child_allowance_query(whitelist, on=date(2017, 7, 17)) is None


def test_query_dated_after_the_row_expires_is_refused(tmp_path: Path) -> None:
    expiring = Whitelist.load(
        write_whitelist(
            tmp_path,
            """\
              - id: T001
                procedure: child_allowance.certification
                requesters: [municipality]
                providers: [municipality]
                items: [tax.taxable_income]
                legal_basis: test
                valid_from: 2017-07-18
                valid_to: 2026-03-31
            """,
        )
    )

    assert child_allowance_query(expiring, items=("tax.taxable_income",), on=date(2026, 3, 31)) is not None
    assert child_allowance_query(expiring, items=("tax.taxable_income",), on=date(2026, 4, 1)) is None


def test_whitelist_row_naming_an_unknown_item_fails_to_load(tmp_path: Path) -> None:
    path = write_whitelist(
        tmp_path,
        """\
          - id: T001
            procedure: child_allowance.certification
            requesters: [municipality]
            providers: [municipality]
            items: [tax.taxable_income, tax.church_tax]
            legal_basis: test
            valid_from: 2017-07-18
        """,
    )

    with pytest.raises(ValueError, match=r"T001.*tax\.church_tax"):
        Whitelist.load(path)
