"""The security administrator's CLI (`python -m devnet.security`) against a real intermediate
server over HTTP: evaluating, listing and acknowledging alerts, and how refusals show."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from devnet.security import main
from municipality.intermediate.app import create_app
from municipality.intermediate.config import IntermediateSettings
from tests.support import OPERATOR_TOKEN, settings_kwargs
from tests.unit.devnet.cli_run import Run, run_cli

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
PASSWORD = "synthetic-staff-password"
PERSON = "100000000000001"


def security(url: str, *argv: str, token: str | None = OPERATOR_TOKEN) -> Run:
    """Run the CLI as an administrator whose shell has OPERATOR_TOKEN exported."""
    environ = {"OPERATOR_TOKEN": token} if token is not None else {}
    return run_cli(main, [*argv, "--intermediate", url], environ)


@pytest.fixture
def intermediate_url(tmp_path: Path, database_url_factory: Callable[[str], str]) -> Iterator[str]:
    settings = IntermediateSettings(
        **settings_kwargs(tmp_path / "intermediate", database_url_factory("intermediate")), alert_interval_seconds=0
    )
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the intermediate server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def a_view_outside_the_role(url: str) -> None:
    """課税課 staff ask to view a household, which their role does not grant: refused and logged."""
    with httpx.Client(base_url=url, trust_env=False) as client:
        account = {"staff_id": "kazei-001", "department": "課税課", "title": "担当", "password": PASSWORD}
        assert client.post("/staff", json=account, headers=OPERATOR).status_code == 201
        token = client.post("/staff/sessions", json={"staff_id": "kazei-001", "password": PASSWORD}).json()["token"]
        params = {"address_number": PERSON, "item_codes": "resident.household"}
        refused = client.get("/views/copies", params=params, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403


def test_evaluate_list_and_acknowledge_an_alert(intermediate_url: str) -> None:
    a_view_outside_the_role(intermediate_url)

    evaluated = security(intermediate_url, "alerts", "evaluate")
    listed = security(intermediate_url, "alerts", "list", "--rule", "outside_role")
    [alert_id, rule, status, staff, *_rest] = listed.table()[0]
    acknowledged = security(intermediate_url, "alerts", "acknowledge", alert_id)
    still_open = security(intermediate_url, "alerts", "list", "--status", "open", "--json")

    assert evaluated.exit_code == 0, evaluated.err
    assert evaluated.out.startswith("evaluated 1 new entries")
    assert listed.exit_code == 0, listed.err
    assert listed.out.splitlines()[0].split()[:3] == ["ID", "RULE", "STATUS"]
    assert (rule, status, staff) == ("outside_role", "open", "kazei-001")
    assert acknowledged.exit_code == 0, acknowledged.err
    assert (acknowledged.json()["status"], acknowledged.json()["acknowledged_by"]) == ("acknowledged", "operator")
    assert [a["rule"] for a in still_open.json() if a["rule"] == "outside_role"] == []


def test_acknowledging_twice_exits_1_with_the_servers_problem(intermediate_url: str) -> None:
    a_view_outside_the_role(intermediate_url)
    security(intermediate_url, "alerts", "evaluate")
    [alert] = security(intermediate_url, "alerts", "list", "--rule", "outside_role", "--json").json()

    assert security(intermediate_url, "alerts", "acknowledge", str(alert["alert_id"])).exit_code == 0
    again = security(intermediate_url, "alerts", "acknowledge", str(alert["alert_id"]))

    assert again.exit_code == 1
    assert "409 Conflict [alert_already_acknowledged]" in again.err


def test_a_wrong_or_missing_operator_token_exits_1(intermediate_url: str) -> None:
    wrong = security(intermediate_url, "alerts", "list", token="not-the-operator-token")
    missing = security(intermediate_url, "alerts", "list", token=None)

    assert (wrong.exit_code, missing.exit_code) == (1, 1)
    assert "401 Not authenticated" in wrong.err
    assert "no operator token" in missing.err
