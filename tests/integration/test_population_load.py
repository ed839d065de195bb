"""A synthetic population loaded into a real city over HTTP: every source system pushes its
copies, and the intermediate server ends up holding each of them, keyed by address number only."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from devnet.load_population import load_population
from devnet.population import synthetic_population
from tests.integration.conftest import LiveNetwork
from tests.integration.database_dump import dump_database
from tests.support import OPERATOR_TOKEN

pytestmark = pytest.mark.integration


def copies_held(live_network: LiveNetwork) -> dict[str, int]:
    columns, rows = dump_database(live_network.database_url("tokorozawa-intermediate"))["copies"]
    items: dict[str, int] = {}
    for row in rows:
        item = row[columns.index("item_code")]
        items[item] = items.get(item, 0) + 1
    return items


def test_a_loaded_population_reaches_the_intermediate_server_as_copies(live_network: LiveNetwork) -> None:
    this_year = date.today().year  # the server keeps this tax year and the five before
    population = synthetic_population(80, 5, "埼玉県", "所沢市", tax_years=range(this_year - 5, this_year))
    before = copies_held(live_network)
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    with httpx.Client(base_url=live_network.url("tokorozawa-city"), headers=headers, timeout=60) as client:
        pushed = load_population(client, population, report=lambda _line: None)

    after = copies_held(live_network)
    added = {item: after.get(item, 0) - before.get(item, 0) for item in after}
    assert added["resident.household"] == 80
    assert added["tax.taxable_income"] == added["tax.income_levy"] == len(population.tax_assessments)
    assert added.get("child_allowance.payment", 0) == len(population.child_allowances)
    assert added.get("nhi.enrollment", 0) == len(population.health_insurance)
    assert pushed["resident tax"] == 2 * len(population.tax_assessments)
