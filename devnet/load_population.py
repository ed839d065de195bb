"""Fill a running city's systems with a synthetic population:
`python -m devnet.load_population --city kodaira --residents 150000 --seed 1`.

Residents go in whole households (so each household's composition is pushed once, complete),
then five years of resident tax, child allowance, national health insurance and welfare, each
through the city's own endpoints, so every copy reaches the intermediate server the way real
data would. Test data only: every person is made up by `devnet.population`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import httpx

from devnet.compose import load_app_services
from devnet.population import SyntheticPopulation, synthetic_population
from devnet.scenario import CITIES

RESIDENT_CHUNK = 5_000
RECORD_CHUNK = 50_000


def household_chunks(residents: Sequence[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """Chunks of about `size` residents that never split a household."""
    chunks: list[list[dict[str, Any]]] = [[]]
    for resident in residents:
        current = chunks[-1]
        if len(current) >= size and resident.get("household_code") != current[-1].get("household_code"):
            chunks.append(current := [])
        current.append(resident)
    return [chunk for chunk in chunks if chunk]


def load_population(
    client: httpx.Client, population: SyntheticPopulation, report: Callable[[str], None] = print
) -> dict[str, int]:
    """POST everything to the city systems `client` points at; the copies each push registered."""
    copies: dict[str, int] = {}

    def send(label: str, path: str, key: str, rows: Sequence[dict[str, Any]], chunk: int) -> None:
        started = time.perf_counter()
        for start in range(0, len(rows), chunk):
            answer = client.post(path, json={key: list(rows[start : start + chunk])}).raise_for_status().json()
            copies[label] = copies.get(label, 0) + int(answer.get("copies_registered", 0))
        report(f"{label}: {len(rows):,} in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    for chunk in household_chunks(population.residents, RESIDENT_CHUNK):
        client.post("/residents", json={"residents": chunk}).raise_for_status()
    report(f"residents: {len(population.residents):,} in {time.perf_counter() - started:.1f} s")
    send("resident tax", "/tax/assessments", "assessments", population.tax_assessments, RECORD_CHUNK)
    send("child allowance", "/child-allowance/recipients", "recipients", population.child_allowances, RECORD_CHUNK)
    send(
        "national health insurance",
        "/health-insurance/enrollments",
        "enrollments",
        population.health_insurance,
        RECORD_CHUNK,
    )
    send("welfare", "/welfare/cases", "cases", population.welfare_cases, RECORD_CHUNK)
    return copies


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devnet.load_population", description=__doc__)
    parser.add_argument("--city", choices=sorted(CITIES), default="kodaira", help="which city of compose.yaml")
    parser.add_argument("--residents", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--city-url", help="the city systems' URL (default: its port in compose.yaml on this host)")
    parser.add_argument("--operator-token", default=os.environ.get("OPERATOR_TOKEN"), help="default: $OPERATOR_TOKEN")
    args = parser.parse_args(argv)
    if not args.operator_token:
        parser.error("no operator token: pass --operator-token or set OPERATOR_TOKEN")
    _code, prefecture, city = CITIES[args.city]
    ports = {
        spec.name: spec.host_port
        for spec in load_app_services({"OPERATOR_TOKEN": "unused", "POSTGRES_PASSWORD": "unused"})
    }
    url = args.city_url or f"http://127.0.0.1:{ports[f'{args.city}-city']}"
    this_year = date.today().year
    started = time.perf_counter()
    population = synthetic_population(
        args.residents, args.seed, prefecture, city, tax_years=range(this_year - 5, this_year)
    )
    print(f"generated {len(population.residents):,} residents of {city} in {time.perf_counter() - started:.1f} s")
    headers = {"Authorization": f"Bearer {args.operator_token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=600, trust_env=False) as client:
        copies = load_population(client, population)
    print("copies registered: " + ", ".join(f"{label} {count:,}" for label, count in copies.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
