"""A service rotates its own key over the real network (鍵の更新): 東村山市's intermediate server
prepares its next key (`POST /operations/keys/next`), the administrator announces it at the broker
(`python -m devnet.admin keys announce`, a process of its own), the running server switches to
`.v2` at the activation time without a restart, and its staff queries still get answers, sealed
to its new key and opened there. During the overlap the old key still verifies.

The live broker's overlap is a day, so "after the overlap" is reached the way an operator does
after a compromise: a third key announced with an activation time further back than the overlap
retires the older ones at once (401 unknown_key), and the server goes on with `.v3`. (Moving a
clock through the overlap itself is tests/unit/broker/test_service_key_rotation.py.)

The server is left on `.v3`, which every later test signing "as 東村山市's intermediate server"
picks up too: they load its key store from its data dir, and it names the generation in force.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devnet.scenario import CHILD_ALLOWANCE, INCOME_ITEMS
from services.db import utc_now
from services.keys import KeyGeneration, ServiceKeys
from services.signing import RequestSigner
from tests.integration.conftest import LiveNetwork
from tests.support import OPERATOR_TOKEN

pytestmark = pytest.mark.integration

SERVER = "higashimurayama-intermediate"
KEY_ID = "132136.intermediate"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
ROOT = Path(__file__).resolve().parents[2]


def prepare_next_key(live_network: LiveNetwork, activates_at: datetime) -> dict[str, Any]:
    """The server's operator asks it for its next key."""
    response = httpx.post(
        f"{live_network.url(SERVER)}/operations/keys/next",
        json={"activates_at": activates_at.isoformat()},
        headers=OPERATOR,
        trust_env=False,
    )
    assert response.status_code == 201, response.text
    prepared: dict[str, Any] = response.json()
    return prepared


def announce(live_network: LiveNetwork, prepared: dict[str, Any]) -> dict[str, Any]:
    """The administrator announces it at the broker with the administrator CLI."""
    command = [
        sys.executable, "-m", "devnet.admin", "--broker", live_network.url("broker"),
        "keys", "announce", "132136", "intermediate",
        "--signing-public-key", prepared["signing_public_key"],
        "--encryption-public-key", prepared["encryption_public_key"],
        "--activates-at", prepared["activates_at"],
    ]  # fmt: skip
    environment = {**os.environ, "OPERATOR_TOKEN": OPERATOR_TOKEN}
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    announced: dict[str, Any] = json.loads(done.stdout)
    return announced


def signing_key_id(live_network: LiveNetwork) -> str:
    identity = httpx.get(f"{live_network.url(SERVER)}/.well-known/institution", trust_env=False).json()
    key_id: str = identity["signing_key_id"]
    return key_id


def wait_for_signing_key(live_network: LiveNetwork, key_id: str) -> None:
    """Poll (briefly) until the server signs with `key_id`; no timing is asserted."""
    deadline = time.monotonic() + 30
    while signing_key_id(live_network) != key_id and time.monotonic() < deadline:
        time.sleep(0.1)
    assert signing_key_id(live_network) == key_id


def staff_query(live_network: LiveNetwork) -> httpx.Response:
    report = live_network.report
    query = {
        "address_number": report.address_numbers["higashimurayama"],
        "procedure_code": CHILD_ALLOWANCE,
        "provider_code": "132110",
        "item_codes": INCOME_ITEMS,
    }
    staff = {"Authorization": f"Bearer {report.staff_tokens['kosodate-001']}"}
    return httpx.post(f"{live_network.url(SERVER)}/queries", json=query, headers=staff, timeout=30, trust_env=False)


def income(response: httpx.Response) -> tuple[int, int]:
    assert response.status_code == 200, response.text
    values = {item["item_code"]: item["value"] for item in response.json()["items"]}
    return values["tax.taxable_income"], values["tax.income_levy"]


class OneGeneration(ServiceKeys):
    """The server's key store, read from its data dir, signing with one generation it holds."""

    def __init__(self, key_dir: Path, generation: int) -> None:
        super().__init__(key_dir, KEY_ID)
        [self.chosen] = [g for g in self.generations() if g.generation == generation]

    def current(self) -> KeyGeneration:
        return self.chosen


def signed_with_generation(live_network: LiveNetwork, generation: int) -> httpx.Response:
    """POST /queries to the broker signed with one of the server's generations; the symbol is
    unknown, so an accepted signature is 404 unknown_symbol, a refused one 401."""
    keys = OneGeneration(live_network.data_dir(SERVER) / "keys", generation)
    query = {
        "requester_symbol": "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32)),
        "procedure_code": CHILD_ALLOWANCE,
        "provider_code": "132110",
        "item_codes": INCOME_ITEMS,
    }
    with httpx.Client(auth=RequestSigner(keys), trust_env=False) as client:
        return client.post(f"{live_network.url('broker')}/queries", json=query)


def code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_a_running_server_rotates_its_own_key(live_network: LiveNetwork) -> None:
    expected = live_network.report.mover_income
    assert signing_key_id(live_network) == KEY_ID
    assert income(staff_query(live_network)) == expected

    prepared = prepare_next_key(live_network, utc_now() + timedelta(seconds=1))
    assert prepared["key_id"] == f"{KEY_ID}.v2"
    assert announce(live_network, prepared)["key_id"] == f"{KEY_ID}.v2"

    wait_for_signing_key(live_network, f"{KEY_ID}.v2")  # the same process, at the activation time
    assert income(staff_query(live_network)) == expected  # signed .v2, sealed to .v2, opened
    # During the overlap the broker accepts both generations.
    assert code(signed_with_generation(live_network, 1)) == (404, "unknown_symbol")
    assert code(signed_with_generation(live_network, 2)) == (404, "unknown_symbol")

    # A third key, active for longer than the overlap already: the older ones are refused now.
    third = prepare_next_key(live_network, utc_now() - timedelta(days=2))
    assert third["key_id"] == f"{KEY_ID}.v3"
    assert announce(live_network, third)["key_id"] == f"{KEY_ID}.v3"
    assert signing_key_id(live_network) == f"{KEY_ID}.v3"

    assert code(signed_with_generation(live_network, 1)) == (401, "unknown_key")
    assert code(signed_with_generation(live_network, 2)) == (401, "unknown_key")
    assert income(staff_query(live_network)) == expected
    keys = httpx.get(
        f"{live_network.url('broker')}/registry/institutions/132136/components/intermediate/keys", trust_env=False
    ).json()
    assert [(k["key_id"], k["status"]) for k in keys] == [
        (KEY_ID, "retired"),
        (f"{KEY_ID}.v2", "retired"),
        (f"{KEY_ID}.v3", "active"),
    ]
