"""The security administrator's CLI for a city's intermediate server (SCM, DOMAIN rule 5):
`python -m devnet.security <command> [--intermediate URL] [--operator-token T] [--json]`.

  alerts list [--status open|acknowledged] [--rule RULE]   unusual-access alerts, newest first (table)
  alerts evaluate                        judge the access-log entries written since the last evaluation
  alerts acknowledge ALERT_ID            mark an alert looked into (by "operator")
  households declare STAFF_ID ADDRESS_NUMBER...   address numbers of a staff member's own household

The intermediate server's URL defaults to $INTERMEDIATE_URL, else http://127.0.0.1:8112; the
operator token to $OPERATOR_TOKEN, so that it need not appear in shell history. A refusal by the
server (RFC 9457 problem) is printed with its title, code and detail, and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import httpx

from devnet.cli import CommandError, ServiceCli, answer, print_json, print_table

DEFAULT_INTERMEDIATE = "http://127.0.0.1:8112"


class IntermediateServer:
    """The intermediate server's operator API."""

    def __init__(self, client: httpx.Client, operator_token: str | None) -> None:
        if not operator_token:
            raise CommandError("no operator token: pass --operator-token or set OPERATOR_TOKEN")
        self.client = client
        self.headers = {"Authorization": f"Bearer {operator_token}"}

    def get(self, path: str, params: Mapping[str, str]) -> Any:
        return answer(self.client.get(path, params=params, headers=self.headers))

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return answer(self.client.post(path, json=body, headers=self.headers))


def _alert_rows(alerts: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    return [
        [
            str(a["alert_id"]),
            a["rule"],
            a["status"],
            a["staff_id"] or ",".join(a["staff_ids"]),
            a["address_number"] or "-",
            f"{a['window_start']} – {a['window_end']}",
            f"{a['count']} (>{a['threshold']})",
        ]
        for a in alerts
    ]


def _print_alerts(alerts: Sequence[Mapping[str, Any]], args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        print_json(alerts, out)
        return
    print_table(["ID", "RULE", "STATUS", "STAFF", "ADDRESS NUMBER", "WINDOW", "COUNT"], _alert_rows(alerts), out)


def alerts_list(server: IntermediateServer, args: argparse.Namespace, out: TextIO) -> None:
    filters = {name: value for name, value in (("status", args.status), ("rule", args.rule)) if value}
    _print_alerts(server.get("/alerts", filters), args, out)


def alerts_evaluate(server: IntermediateServer, args: argparse.Namespace, out: TextIO) -> None:
    evaluation = server.post("/alerts/evaluate")
    if args.json:
        print_json(evaluation, out)
        return
    print(
        f"evaluated {evaluation['entries_evaluated']} new entries (through seq {evaluation['evaluated_through']});"
        f" {len(evaluation['alerts'])} alerts raised or grown",
        file=out,
    )
    if evaluation["alerts"]:
        _print_alerts(evaluation["alerts"], args, out)


def alerts_acknowledge(server: IntermediateServer, args: argparse.Namespace, out: TextIO) -> None:
    print_json(server.post(f"/alerts/{args.alert_id}/acknowledgement"), out)


def households_declare(server: IntermediateServer, args: argparse.Namespace, out: TextIO) -> None:
    body = {"staff_id": args.staff_id, "address_numbers": args.address_numbers}
    print_json(server.post("/staff-households", body), out)


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    connection = argparse.ArgumentParser(add_help=False)  # options every command takes, after it
    connection.add_argument(
        "--intermediate",
        default=environ.get("INTERMEDIATE_URL") or DEFAULT_INTERMEDIATE,
        help="the intermediate server's base URL (default: $INTERMEDIATE_URL, else %(default)s)",
    )
    connection.add_argument(
        "--operator-token",
        default=environ.get("OPERATOR_TOKEN"),
        help="the deployment's operator token (default: $OPERATOR_TOKEN)",
    )
    connection.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser = argparse.ArgumentParser(
        prog="python -m devnet.security", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    topics = parser.add_subparsers(dest="topic", required=True)

    alerts = topics.add_parser("alerts", help="unusual-access alerts").add_subparsers(dest="command", required=True)
    listing = alerts.add_parser("list", parents=[connection], help="alerts, newest first")
    listing.add_argument("--status", choices=("open", "acknowledged"))
    listing.add_argument("--rule", help="volume, off_hours, outside_role, many_staff_one_person or own_household")
    listing.set_defaults(run=alerts_list)
    alerts.add_parser("evaluate", parents=[connection], help="evaluate the new access-log entries now").set_defaults(
        run=alerts_evaluate
    )
    acknowledge = alerts.add_parser("acknowledge", parents=[connection], help="mark an alert looked into")
    acknowledge.add_argument("alert_id", type=int)
    acknowledge.set_defaults(run=alerts_acknowledge)

    households = topics.add_parser("households", help="staff's own households").add_subparsers(
        dest="command", required=True
    )
    declare = households.add_parser("declare", parents=[connection], help="declare a staff member's household")
    declare.add_argument("staff_id")
    declare.add_argument("address_numbers", nargs="+", metavar="ADDRESS_NUMBER")
    declare.set_defaults(run=households_declare)
    return parser


main = ServiceCli(
    "the intermediate server",
    build_parser,
    base_url=lambda args: str(args.intermediate),
    target=lambda client, args: IntermediateServer(client, args.operator_token),
    timeout=30.0,
).main


if __name__ == "__main__":
    sys.exit(main())
