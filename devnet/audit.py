"""Auditing the broker's provision log (RFC 9162) with nothing but the broker's public key, and a
city's staff access log against the heads its intermediate server anchored at the broker.

    python -m devnet.audit verify --broker URL --operator-token T --query-id Q
    python -m devnet.audit verify-log --broker URL --operator-token T [--head-file FILE]
    python -m devnet.audit verify-access-log --intermediate URL --broker URL --operator-token T

`verify` fetches a signed tree head and one record's inclusion proof, then checks the head's
signature, that the logged fields hash to the proven leaf, that the opening of the record's
subject commitment (serial, symbol) matches it, and that the leaf is in the signed tree.
`verify-log` downloads every entry and checks them all against a signed head; with `--head-file`
it also checks that the log still begins with the tree of the head saved there by the previous
run (it only grew), then saves the new head. The checks live in services.log_audit.
`verify-access-log` downloads every entry of an intermediate server's access log, recomputes each
leaf and root, and checks the server's latest signed head and every head it anchored at the
broker against them, with the keys the broker's registry holds for the server; it names the first
entry edited or deleted, or where a rewrite after an anchor began (services.access_log_audit).
Exit 0 when all hold, 1 with the reason otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from services.access_log_audit import ACCESS_LOG, check_access_log
from services.log_audit import AuditFailure, verify_entries, verify_record_inclusion, verify_tree_head
from services.merkle import root_hash

PAGE_SIZE = 10_000


def _client(broker: str, operator_token: str) -> httpx.Client:
    return httpx.Client(
        base_url=broker, timeout=60.0, trust_env=False, headers={"Authorization": f"Bearer {operator_token}"}
    )


def _public_key(client: httpx.Client, given: str | None) -> str:
    if given is not None:
        return given
    return str(client.get("/.well-known/institution").raise_for_status().json()["signing_public_key"])


def audit_record(broker: str, operator_token: str, query_id: str, public_key_b64: str | None) -> str:
    with _client(broker, operator_token) as client:
        public_key_b64 = _public_key(client, public_key_b64)
        head = client.get("/provision-log/tree-head").raise_for_status().json()
        tree_head = verify_tree_head(head, public_key_b64)
        response = client.get(
            "/provision-log/inclusion", params={"query_id": query_id, "tree_size": tree_head.tree_size}
        )
        if response.status_code != 200:
            raise AuditFailure(f"the broker gave no inclusion proof: {response.status_code} {response.text}")
        verify_record_inclusion(tree_head, response.json())
    return f"record {query_id} is leaf {response.json()['leaf_index']} of the signed tree of size {tree_head.tree_size}"


def audit_log(broker: str, operator_token: str, public_key_b64: str | None, head_file: Path | None) -> str:
    with _client(broker, operator_token) as client:
        public_key_b64 = _public_key(client, public_key_b64)
        head = client.get("/provision-log/tree-head").raise_for_status().json()
        tree_head = verify_tree_head(head, public_key_b64)
        entries: list[dict[str, Any]] = []
        while len(entries) < tree_head.tree_size:
            end = min(len(entries) + PAGE_SIZE, tree_head.tree_size)
            page = client.get("/provision-log/entries", params={"start": len(entries), "end": end})
            entries.extend(page.raise_for_status().json()["entries"])
            if len(entries) < end:
                raise AuditFailure(f"the broker gave entries up to {len(entries)} of a signed tree of {end} or more")
    leaves = verify_entries(tree_head, entries)
    report = f"all {tree_head.tree_size} entries make the signed tree of size {tree_head.tree_size}"
    if head_file is not None:
        if head_file.exists():
            earlier = verify_tree_head(json.loads(head_file.read_text()), public_key_b64)
            if earlier.tree_size > tree_head.tree_size or root_hash(leaves[: earlier.tree_size]) != earlier.root_hash:
                raise AuditFailure(
                    f"the log does not extend the tree of size {earlier.tree_size} signed at {earlier.timestamp}"
                )
            report += f"; it extends the earlier tree of size {earlier.tree_size}"
        head_file.write_text(json.dumps(head))
    return report


def download_access_log(intermediate: httpx.Client, broker: httpx.Client) -> str:
    """Fetch the log, its latest signed head, the anchors and the server's keys, then check them."""
    institution = intermediate.get("/.well-known/institution").raise_for_status().json()
    head = intermediate.get("/access-log/tree-head").raise_for_status().json()
    entries: list[dict[str, Any]] = []
    while len(entries) < head["tree_size"]:
        start = len(entries)
        end = min(start + PAGE_SIZE, head["tree_size"])
        page = intermediate.get("/access-log/entries", params={"start": start, "end": end})
        entries.extend(page.raise_for_status().json()["entries"])
        if len(entries) < end:
            break  # rows are missing: the checks name where
    anchors = broker.get(
        "/log-anchors", params={"institution": institution["institution_code"], "log": ACCESS_LOG}
    ).raise_for_status()
    key_ids = {head["key_id"], *(anchor["key_id"] for anchor in anchors.json())}
    return check_access_log(entries, head, anchors.json(), registered_keys(broker, key_ids, institution))


def registered_keys(broker: httpx.Client, key_ids: set[str], institution: dict[str, Any]) -> dict[str, str]:
    """The signing keys the broker's registry holds under these ids for the institution's
    intermediate server (not the keys the audited server says it has)."""
    keys: dict[str, str] = {}
    for key_id in key_ids:
        response = broker.get(f"/registry/keys/{key_id}")
        if response.status_code != 200:
            continue  # a head under it fails as unsigned
        registered = response.json()
        if (registered["institution_code"], registered["component"]) == (
            institution["institution_code"],
            "intermediate",
        ):
            keys[key_id] = registered["signing_public_key"]
    return keys


def audit_access_log(intermediate: str, broker: str, operator_token: str, broker_token: str | None) -> str:
    with _client(intermediate, operator_token) as city, _client(broker, broker_token or operator_token) as network:
        return download_access_log(city, network)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devnet.audit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify one provision record against a signed tree head")
    verify_log = commands.add_parser("verify-log", help="verify every entry of the log against a signed tree head")
    verify_access_log = commands.add_parser(
        "verify-access-log", help="verify a city's staff access log against the heads anchored at the broker"
    )
    verify_access_log.add_argument("--intermediate", required=True, help="the intermediate server's base URL")
    verify_access_log.add_argument("--broker", required=True, help="the broker's base URL")
    verify_access_log.add_argument("--operator-token", required=True, help="the intermediate server's")
    verify_access_log.add_argument("--broker-operator-token", help="the broker's, if not the same")
    for command in (verify, verify_log):
        command.add_argument("--broker", required=True, help="the broker's base URL")
        command.add_argument("--operator-token", required=True)
        command.add_argument(
            "--public-key", help="the broker's Ed25519 key (base64); default: its /.well-known/institution"
        )
    verify.add_argument("--query-id", required=True)
    verify_log.add_argument("--head-file", type=Path, help="the head of the previous run: check it, then replace it")
    args = parser.parse_args(argv)
    try:
        if args.command == "verify":
            print(audit_record(args.broker, args.operator_token, args.query_id, args.public_key))
        elif args.command == "verify-access-log":
            print(audit_access_log(args.intermediate, args.broker, args.operator_token, args.broker_operator_token))
        else:
            print(audit_log(args.broker, args.operator_token, args.public_key, args.head_file))
    except (AuditFailure, httpx.HTTPError, KeyError, ValueError) as error:
        print(f"NOT VERIFIED: {error}", file=sys.stderr)
        return 1
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
