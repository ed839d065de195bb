"""符号の再発行 over the real network: 東村山市 applies on its chief's approval, then two
administrators replace its symbols with the CLI;
its staff's queries go on with the same answers, the leaked symbol is refused, and the resident
still sees every record in My Portal. Runs after the other integration tests (file order)."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest

from devnet.admin import main as admin
from devnet.reissue_application import apply_for_symbol_reissue, signed_in_staff
from devnet.scenario import CHILD_ALLOWANCE, INCOME_ITEMS
from services.keys import load_or_create_keys
from services.signing import RequestSigner
from tests.integration.conftest import LiveNetwork
from tests.integration.database_dump import dump_database
from tests.support import OPERATOR_TOKEN

pytestmark = pytest.mark.integration


def run_admin(live_network: LiveNetwork, *argv: str, admin_token: str | None = None) -> str:
    environ = {"BROKER_URL": live_network.url("broker"), "OPERATOR_TOKEN": OPERATOR_TOKEN}
    if admin_token:
        environ["ADMIN_TOKEN"] = admin_token
    out, err = io.StringIO(), io.StringIO()
    assert admin(list(argv), environ=environ, out=out, err=err) == 0, err.getvalue()
    return out.getvalue()


def symbol_at_higashimurayama(live_network: LiveNetwork, address_number: str) -> str:
    columns, rows = dump_database(live_network.database_url("higashimurayama-intermediate"))["symbol_links"]
    [symbol] = [row[columns.index("symbol")] for row in rows if row[columns.index("address_number")] == address_number]
    return str(symbol)


def test_reissue_keeps_answers_refuses_the_leaked_symbol_and_keeps_records(live_network: LiveNetwork) -> None:
    url, report = live_network.url, live_network.report
    here = report.address_numbers["higashimurayama"]
    leaked = symbol_at_higashimurayama(live_network, here)
    http = httpx.Client(timeout=30, trust_env=False)
    staff = {"Authorization": f"Bearer {report.staff_tokens['kosodate-001']}"}
    asked = {"procedure_code": CHILD_ALLOWANCE, "provider_code": "132110", "item_codes": INCOME_ITEMS}
    query = {"address_number": here, **asked}
    before = http.post(f"{url('higashimurayama-intermediate')}/queries", json=query, headers=staff).json()
    tokens = {
        admin_id: json.loads(run_admin(live_network, "administrators", "create", admin_id, "--name", admin_id))["token"]
        for admin_id in ("sato", "suzuki")
    }

    city = url("higashimurayama-intermediate")
    chief = signed_in_staff(http, city, OPERATOR_TOKEN, "joho-chief", "課長")  # an approver: the operator's
    application = apply_for_symbol_reissue(http, city, report.staff_tokens["joho-001"], chief, "symbols on a USB stick")
    listed_applications = run_admin(live_network, "reissue", "applications", admin_token=tokens["sato"])
    assert application["application_id"] in listed_applications

    declared = run_admin(
        live_network,
        "reissue",
        "declare",
        "132136",
        "--application",
        application["application_id"],
        "--reason",
        "leak",
        admin_token=tokens["sato"],
    )
    reissue_id = json.loads(declared)["reissue_id"]
    progress = run_admin(live_network, "reissue", "confirm", reissue_id, "--follow", admin_token=tokens["suzuki"])

    assert progress.splitlines()[-1].startswith("completed (done)")
    assert symbol_at_higashimurayama(live_network, here) != leaked
    after = http.post(f"{url('higashimurayama-intermediate')}/queries", json=query, headers=staff).json()
    assert after["items"] == before["items"]
    keys = load_or_create_keys(live_network.data_dir("higashimurayama-intermediate") / "keys", "132136.intermediate")
    with httpx.Client(auth=RequestSigner(keys), trust_env=False) as intermediate:
        revoked = intermediate.post(f"{url('broker')}/queries", json={**asked, "requester_symbol": leaked})
    assert (revoked.status_code, revoked.json()["code"]) == (403, "symbol_revoked")
    assertion = http.post(
        f"{url('jlis')}/test-logins", json={"individual_number": report.mover["individual_number"]}
    ).json()["assertion"]
    session: dict[str, Any] = http.post(f"{url('portal')}/api/session", json={"assertion": assertion}).json()
    listed = http.get(
        f"{url('portal')}/api/me/provision-records",
        headers={"Authorization": f"Bearer {session['session_token']}"},
    )
    assert listed.status_code == 200, listed.text
    records = listed.json()["records"]
    seen = {r["query_id"]: r["outcome_code"] for r in records}
    assert seen[before["query_id"]] == seen[after["query_id"]] == "provided"
    assert "symbol_revoked" in seen.values()
