"""DOMAIN privacy rules 1–3, checked on the real databases and logs after the linkage ran.

Rule 1: an intermediate server's database holds no individual number and no name, address,
sex or birth date. Rule 2: symbols mean nothing outside their institution. Rule 3: the broker
holds and logs no payload.
"""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any

import pytest

from jlis.numbers.check_digit import is_valid_individual_number
from tests.integration.conftest import LiveNetwork
from tests.integration.database_dump import dump_database

pytestmark = pytest.mark.integration

INTERMEDIATE_SERVERS = ["higashimurayama-intermediate", "kodaira-intermediate", "tokorozawa-intermediate"]
BASIC_FOUR_COLUMN = re.compile(
    r"name|address(?!_number)|addr(?!ess_number)|sex|gender|birth|dob|kana|氏名|住所|性別|生年月日", re.IGNORECASE
)
# Twelve digits standing alone. Not inside a longer run of letters and digits: a hex digest holds a
# run of twelve digits with a valid check digit about once in 300, which made this scan flaky.
TWELVE_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])")


def _issued_numbers(live_network: LiveNetwork) -> set[str]:
    """Every individual number J-LIS has issued in the scenario, current and revoked."""
    columns, rows = dump_database(live_network.database_url("jlis"))["individual_numbers"]
    return {row[columns.index("number")] for row in rows}


def _cells(dump: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> list[str]:
    return [str(cell) for _columns, rows in dump.values() for row in rows for cell in row if cell is not None]


@pytest.mark.parametrize("service", INTERMEDIATE_SERVERS)
def test_intermediate_server_database_holds_no_individual_number(live_network: LiveNetwork, service: str) -> None:
    cells = _cells(dump_database(live_network.database_url(service)))
    assert cells, "the scan must see the server's data"
    found = [m for cell in cells for m in TWELVE_DIGITS.findall(cell) if is_valid_individual_number(m)]
    assert found == []
    text = " ".join(cells)
    issued = _issued_numbers(live_network)
    assert live_network.report.mover["individual_number"] in issued
    assert [number for number in issued if number in text] == []


@pytest.mark.parametrize("service", INTERMEDIATE_SERVERS)
def test_intermediate_server_database_has_no_basic_four_columns_or_values(
    live_network: LiveNetwork, service: str
) -> None:
    dump = dump_database(live_network.database_url(service))
    columns = [f"{table}.{column}" for table, (names, _rows) in dump.items() for column in names]
    assert [c for c in columns if BASIC_FOUR_COLUMN.search(c.split(".", 1)[1])] == []
    text = " ".join(_cells(dump))
    mover = live_network.report.mover
    for value in (mover["name"], mover["address"], mover["birth_date"]):
        assert value not in text


def test_the_scan_would_catch_a_number_in_the_city_systems(live_network: LiveNetwork) -> None:
    """The same scan on the city's own systems (where numbers belong) does find them."""
    cells = _cells(dump_database(live_network.database_url("kodaira-city")))
    found = {m for cell in cells for m in TWELVE_DIGITS.findall(cell) if is_valid_individual_number(m)}
    assert live_network.report.mover["individual_number"] in found
    text = " ".join(cells)
    assert [number for number in _issued_numbers(live_network) if number in text] != []


def test_broker_database_and_log_hold_no_payload_or_individual_number(live_network: LiveNetwork) -> None:
    income, levy = live_network.report.mover_income
    secrets_in_answer = [str(income), str(levy), live_network.report.mover["individual_number"]]
    broker_text = " ".join(_cells(dump_database(live_network.database_url("broker"))))
    broker_log = live_network.log_text("broker")
    assert "provision_records" in dump_database(live_network.database_url("broker"))
    assert "POST /queries" in broker_log, "the scan must see the broker's request log"
    for secret in secrets_in_answer:
        # Standing alone, as a value would be written: a six-digit levy is inside a hex digest about
        # once in 16 million characters, and would be a timestamp's microseconds after a '.'.
        standing_alone = re.compile(rf"(?<![0-9A-Za-z.]){secret}(?![0-9A-Za-z])")
        assert standing_alone.search(broker_text) is None
        assert standing_alone.search(broker_log) is None
    assert live_network.report.mover["name"] not in broker_text


def test_symbol_sets_of_institutions_are_disjoint(live_network: LiveNetwork) -> None:
    sets = {}
    for service in INTERMEDIATE_SERVERS:
        columns, rows = dump_database(live_network.database_url(service))["symbol_links"]
        sets[service] = {row[columns.index("symbol")] for row in rows}
        assert sets[service], f"{service} should hold symbols"
    for a, b in combinations(INTERMEDIATE_SERVERS, 2):
        assert sets[a].isdisjoint(sets[b]), f"{a} and {b} share a symbol"
    broker_columns, broker_rows = dump_database(live_network.database_url("broker"))["institution_symbols"]
    by_institution: dict[str, set[str]] = {}
    for row in broker_rows:
        by_institution.setdefault(row[broker_columns.index("institution_code")], set()).add(
            row[broker_columns.index("symbol")]
        )
    for a, b in combinations(by_institution, 2):
        assert by_institution[a].isdisjoint(by_institution[b])


def test_no_service_log_carries_a_resident_code_number_or_name(live_network: LiveNetwork) -> None:
    """Identifiers travel in request bodies only; access and error logs never show them."""
    mover = live_network.report.mover
    logs = {name: live_network.log_text(name) for name in live_network.network.services}
    assert "POST /cards" in logs["higashimurayama-city"], "the scan must see the counter's request log"
    for name, text in logs.items():
        for value in (mover["resident_code"], mover["individual_number"], mover["name"]):
            assert value not in text, f"{name}'s log holds a personal identifier"
