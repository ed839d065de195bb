"""Bulk issuance for a whole city: 150,000 resident codes → individual numbers, end to end.

End to end = one signed HTTP request from a city to a real J-LIS process (uvicorn, SQLite by
default): validation, keyed derivation, the uniqueness check, inserts, the JSON answer. Baseline =
the same keyed derivation and check digits in this process, with no HTTP and no database.
Target: ≤ 10 s.

    make bench            # or: .venv/bin/python -m bench.issuance --residents 150000
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import time

import httpx

from devnet.compose import ROOT
from devnet.enrolment import enrol_network
from devnet.launcher import LocalNetwork
from jlis.numbers.service import NumberKey
from services.keys import load_or_create_keys
from services.signing import RequestSigner

TARGET_SECONDS = 10.0
OPERATOR_TOKEN = secrets.token_urlsafe(32)


def resident_codes(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{code:011d}" for code in rng.sample(range(10**10, 10**11), count)]


def baseline_seconds(codes: list[str]) -> float:
    key = NumberKey(secrets.token_bytes(32))
    started = time.perf_counter()
    for code in codes:
        key.candidate(code)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.issuance")
    parser.add_argument("--residents", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    codes = resident_codes(args.residents, args.seed)
    var_dir = ROOT / "var" / "bench" / "issuance"
    shutil.rmtree(var_dir, ignore_errors=True)
    network = LocalNetwork(
        var_dir=var_dir,
        variables={"OPERATOR_TOKEN": OPERATOR_TOKEN, "POSTGRES_PASSWORD": "unused"},
        use_free_ports=True,
        only=frozenset({"jlis", "broker", "kodaira-city"}),
    )
    print(f"machine: {os.cpu_count()} cores; {len(codes):,} resident codes; J-LIS on SQLite")
    base = baseline_seconds(codes)
    print(f"baseline (keyed derivation + check digit in-process, no HTTP, no database): {base:.2f} s")
    with network:
        enrol_network(network.urls, network.urls, OPERATOR_TOKEN)
        keys = load_or_create_keys(var_dir / "kodaira-city" / "keys", "132110.city")
        with httpx.Client(auth=RequestSigner(keys), timeout=300, trust_env=False) as city:
            for label in ("first issuance", "re-issuance (same codes)"):
                started = time.perf_counter()
                response = city.post(f"{network.urls['jlis']}/individual-numbers", json={"resident_codes": codes})
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                issued = response.json()["issued"]
                verdict = "meets" if elapsed <= TARGET_SECONDS else "MISSES"
                print(
                    f"{label}: {issued:,} numbers in {elapsed:.2f} s end to end "
                    f"= {elapsed / base:.1f}× baseline; {verdict} the ≤ {TARGET_SECONDS:.0f} s target"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
