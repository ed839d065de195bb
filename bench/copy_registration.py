"""Copy registration (副本登録) for a whole city: 150,000 copies in one batch, end to end.

End to end = one signed HTTP request from 小平市's systems to a real intermediate server process
(uvicorn, SQLite): signature check, JSON, every row checked against the item catalogue, the
copies the batch may replace read in one pass, inserts/updates/history written set-based, one
transaction, the answer. The body is encoded before the clock starts (that is the source's work).
Baseline = a raw bulk insert of the same rows (driver-level executemany, values already in
storage form, no checks) into a table with the copies table's columns and indexes, in the same
database file, in this process. Target: ≤ 2× the baseline.

Then two re-pushes of the same 150,000 copies, as a source's next runs: one in which 15,000
values were corrected (updates plus their history) and one a day later with every value the
same (each copy's `as_of` moves on).

    .venv/bin/python -m bench.copy_registration --copies 150000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import statistics
import time
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import Table, func, select

from devnet.compose import ROOT
from devnet.enrolment import enrol_network
from devnet.launcher import LocalNetwork
from municipality.intermediate.copies.models import Copy, CopyRevision
from services.db import Database, new_metadata, utc_now
from services.keys import load_or_create_keys
from services.signing import RequestSigner

TARGET_RATIO = 2.0
OPERATOR_TOKEN = secrets.token_urlsafe(32)
SERVICES = frozenset({"broker", "kodaira-city", "kodaira-intermediate"})
TAX_YEAR = str(date.today().year - 1)


def synthetic_copies(count: int, seed: int, as_of: date) -> list[dict[str, Any]]:
    """Taxable incomes of `count` fictitious residents by random address numbers (rule 10)."""
    rng = random.Random(seed)
    return [
        {
            "address_number": f"{n:015d}",
            "item_code": "tax.taxable_income",
            "period": TAX_YEAR,
            "value": rng.randrange(0, 20_000_000),
            "as_of": as_of.isoformat(),
        }
        for n in rng.sample(range(10**14, 10**15), count)
    ]


async def baseline_seconds(database_url: str, copies: list[dict[str, Any]]) -> float:
    """A raw executemany of the same rows into a fresh table like `copies` (dropped afterwards)."""
    database = Database(database_url)
    copies_table: Table = Copy.__table__  # type: ignore[assignment]  # a mapped class's table is a Table
    table = copies_table.to_metadata(new_metadata(), name="copies_baseline")  # our naming convention renames keys
    async with database.engine.begin() as connection:
        await connection.run_sync(table.create)
    registered_at = utc_now().strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [
        (c["address_number"], c["item_code"], c["period"], json.dumps(c["value"]), c["as_of"], registered_at, 1)
        for c in copies
    ]
    columns = "address_number, item_code, period, value, as_of, registered_at, batch_id"
    statement = f"INSERT INTO copies_baseline ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)"  # noqa: S608 - our names
    async with database.sessions() as session:
        connection = await session.connection()
        started = time.perf_counter()
        await connection.exec_driver_sql(statement, rows)
        await session.commit()
        elapsed = time.perf_counter() - started
    async with database.engine.begin() as connection:
        await connection.run_sync(table.drop)
    await database.dispose()
    return elapsed


async def forget_copies(database_url: str) -> None:
    """Empty the intermediate server's DBM tables between rounds (it is idle), so that every
    round's push is a first registration into the same kind of table as the baseline's."""
    database = Database(database_url)
    async with database.engine.begin() as connection:
        for table in ("copies", "copy_revisions", "copy_batches", "copy_item_refreshes"):
            await connection.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608 - our names
    await database.dispose()


async def held(database_url: str) -> tuple[int, int]:
    """(copies, revisions) the intermediate server holds."""
    database = Database(database_url)
    async with database.sessions() as session:
        copies = await session.scalar(select(func.count()).select_from(Copy))
        revisions = await session.scalar(select(func.count()).select_from(CopyRevision))
    await database.dispose()
    return int(copies or 0), int(revisions or 0)


def push(city: httpx.Client, url: str, copies: list[dict[str, Any]]) -> tuple[float, dict[str, Any]]:
    body = json.dumps({"source": "individual_resident_tax", "expected_rows": len(copies), "copies": copies}).encode()
    started = time.perf_counter()
    response = city.post(f"{url}/copies", content=body, headers={"content-type": "application/json"})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"push refused: {response.status_code} {response.text[:500]}")
    answer: dict[str, Any] = response.json()
    return elapsed, answer


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.copy_registration")
    parser.add_argument("--copies", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rounds", type=int, default=5, help="baseline and first registration, alternated; the medians count"
    )
    args = parser.parse_args()
    var_dir = ROOT / "var" / "bench" / "copy_registration"
    shutil.rmtree(var_dir, ignore_errors=True)
    network = LocalNetwork(
        var_dir=var_dir,
        variables={"OPERATOR_TOKEN": OPERATOR_TOKEN, "POSTGRES_PASSWORD": "unused"},
        use_free_ports=True,
        only=SERVICES,
    )
    today = date.today()
    copies = synthetic_copies(args.copies, args.seed, today - timedelta(days=2))
    database_url = f"sqlite+aiosqlite:///{var_dir / 'kodaira-intermediate' / 'service.db'}"
    print(f"machine: {os.cpu_count()} cores; {len(copies):,} copies in one batch; intermediate server on SQLite")
    with network:
        enrol_network(network.urls, network.urls, OPERATOR_TOKEN)
        keys = load_or_create_keys(var_dir / "kodaira-city" / "keys", "132110.city")
        intermediate = network.urls["kodaira-intermediate"]
        with httpx.Client(auth=RequestSigner(keys), timeout=300, trust_env=False) as city:
            rounds: list[tuple[float, float]] = []
            for round_number in range(1, args.rounds + 1):
                asyncio.run(forget_copies(database_url))
                base = asyncio.run(baseline_seconds(database_url, copies))
                asyncio.run(forget_copies(database_url))
                first, answer = push(city, intermediate, copies)
                if answer["inserted"] != len(copies):
                    raise SystemExit(f"round {round_number}: {answer['inserted']:,} inserted")
                rounds.append((base, first))
                print(
                    f"round {round_number}: baseline {base:.2f} s; "
                    f"registration {first:.2f} s end to end = {first / base:.2f}×"
                )
            base = statistics.median(b for b, _ in rounds)
            first = statistics.median(f for _, f in rounds)
            verdict = "meets" if first / base <= TARGET_RATIO else "MISSES"
            print(
                f"baseline (raw executemany of the same rows into a table with the same indexes, same database "
                f"file): median {base:.2f} s"
            )
            print(
                f"first registration: {len(copies):,} copies in median {first:.2f} s end to end "
                f"= {first / base:.2f}× baseline; {verdict} the ≤ {TARGET_RATIO:.0f}× target"
            )
            rng = random.Random(args.seed + 1)
            corrected = [dict(c) for c in copies]
            for c in rng.sample(corrected, len(corrected) // 10):
                c["value"] += 1_000
                c["as_of"] = (today - timedelta(days=1)).isoformat()
            again, answer = push(city, intermediate, corrected)
            print(
                f"re-push with corrections: {answer['updated']:,} updated (old values kept), "
                f"{answer['unchanged']:,} unchanged in {again:.2f} s = {again / base:.2f}× baseline"
            )
            refreshed = [dict(c, as_of=today.isoformat()) for c in corrected]
            daily, answer = push(city, intermediate, refreshed)
            print(
                f"next day's full push (same values, newer as_of): {answer['unchanged']:,} refreshed "
                f"in {daily:.2f} s = {daily / base:.2f}× baseline"
            )
    count, revisions = asyncio.run(held(database_url))
    if count != len(copies) or revisions != len(copies) // 10:
        raise SystemExit(f"the server holds {count:,} copies and {revisions:,} revisions: the run does not count")
    print(f"checked: the intermediate server holds {count:,} copies and {revisions:,} revisions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
