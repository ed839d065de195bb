"""`make demo`: start the whole network locally on SQLite, run the linkage, show how to repeat it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys

from devnet.compose import ROOT
from devnet.enrolment import enrol_network
from devnet.launcher import LocalNetwork
from devnet.scenario import LinkageReport, run_linkage_scenario
from devnet.secrets import ensure_env_file

DEMO_DIR = ROOT / "var" / "demo"


def print_report(report: LinkageReport, urls: dict[str, str]) -> None:
    print("\n== The linkage ==")
    for step in report.steps.values():
        code = step.body.get("code", "") if isinstance(step.body, dict) else ""
        print(f"  {step.status}  {step.name}{'  [' + code + ']' if code else ''}")
    answer = report.steps["query 小平市 income for child allowance"].body
    print("\n== What 東村山市's 子育て支援課 received from 小平市 (decrypted only in 東村山市's server) ==")
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    print("\n== The resident's provision records in My Portal ==")
    for record in report.steps["portal provision records"].body["records"]:
        items = ", ".join(item["name"] for item in record["items"])
        print(
            f"  {record['requested_at']}  {record['requester']['name']} ← {record['provider']['name']}"
            f"  {record['procedure']['name']}  [{items}]  {record['outcome']} ({record['outcome_code']})"
        )


def print_curl_walkthrough(report: LinkageReport, urls: dict[str, str]) -> None:
    token = report.staff_tokens["kosodate-001"]
    address = report.address_numbers["higashimurayama"]
    print("\n== Repeat it with curl (see README) ==")
    print(f"export STAFF_TOKEN={token}")
    print(f"export ADDRESS_NUMBER={address}")
    print(f"export INDIVIDUAL_NUMBER={report.mover['individual_number']}")
    print(f"export RESIDENT_CODE={report.mover['resident_code']}")
    print("export OPERATOR_TOKEN=$(grep OPERATOR_TOKEN .env | cut -d= -f2)")
    print(
        f'curl -s -X POST {urls["higashimurayama-intermediate"]}/queries -H "Authorization: Bearer $STAFF_TOKEN" '
        "-H 'Content-Type: application/json' -d '{\"address_number\": \"'$ADDRESS_NUMBER'\", "
        '"procedure_code": "child_allowance.certification", "provider_code": "132110", '
        '"item_codes": ["tax.taxable_income", "tax.income_levy"]}\''
    )
    print(f'curl -s {urls["broker"]}/provision-records -H "Authorization: Bearer $OPERATOR_TOKEN"')


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C, and SIGTERM from a supervisor, both stop every service (a shell that starts the demo
    # in the background leaves SIGINT ignored, so the handler is set explicitly).
    signal.signal(signal.SIGINT, _stop_on_signal)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    secrets = ensure_env_file()
    if DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    variables = {**os.environ, **secrets, "JLIS_TEST_LOGIN_ENABLED": "true"}
    network = LocalNetwork(var_dir=DEMO_DIR, variables=variables)
    print(f"Starting {len(network.services)} services from compose.yaml (logs in {DEMO_DIR / 'logs'}) …")
    with network:
        for name, url in network.urls.items():
            print(f"  {name:30s} {url}")
        enrol_network(network.urls, network.urls, secrets["OPERATOR_TOKEN"])
        report = run_linkage_scenario(network.urls, secrets["OPERATOR_TOKEN"])
        print_report(report, network.urls)
        print_curl_walkthrough(report, network.urls)
        print("\nThe network keeps running; press Ctrl-C to stop every service.")
        if os.environ.get("DEMO_EXIT_AFTER_SCENARIO"):
            return 0
        try:
            signal.pause()
        except KeyboardInterrupt:
            print("\nStopping …")
    return 0


if __name__ == "__main__":
    sys.exit(main())
