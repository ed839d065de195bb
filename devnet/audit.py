"""Auditing the broker's provision log (RFC 9162) with nothing but the broker's public key:
`python -m devnet.audit verify --broker URL --operator-token T --query-id Q`.

Fetches a signed tree head and a record's inclusion proof, then checks the head's signature,
that the logged fields hash to the proven leaf, and that the leaf is in the signed tree.
Exit 0 when all hold, 1 with the reason otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from services.keys import public_key_from_b64, unb64
from services.merkle import TreeHead, canonical_json, leaf_hash, verify_inclusion


class AuditFailure(Exception):
    """The log failed a check; the message says which."""


def verify_tree_head(head: Mapping[str, Any], public_key_b64: str) -> TreeHead:
    """The head, if the broker's key signed it."""
    tree_head = TreeHead(int(head["tree_size"]), int(head["timestamp"]), unb64(head["root_hash"]))
    if not tree_head.verify(public_key_from_b64(public_key_b64), unb64(head["signature"])):
        raise AuditFailure("the tree head's signature does not verify with the broker's public key")
    return tree_head


def verify_record_inclusion(tree_head: TreeHead, proof: Mapping[str, Any]) -> None:
    """The proof's record (when given) hashes to its leaf, and that leaf is in the signed tree."""
    leaf = unb64(proof["leaf_hash"])
    record = proof.get("record")
    if record is not None and leaf_hash(canonical_json(record)) != leaf:
        raise AuditFailure(f"record {record.get('query_id')} differs from what the log holds (leaf hash mismatch)")
    if int(proof["tree_size"]) != tree_head.tree_size:
        raise AuditFailure(f"the proof is for tree size {proof['tree_size']}, the head for {tree_head.tree_size}")
    path = [unb64(node) for node in proof["audit_path"]]
    if not verify_inclusion(int(proof["leaf_index"]), tree_head.tree_size, leaf, path, tree_head.root_hash):
        raise AuditFailure(f"leaf {proof['leaf_index']} is not in the signed tree of size {tree_head.tree_size}")


def audit_record(broker: str, operator_token: str, query_id: str, public_key_b64: str | None) -> str:
    headers = {"Authorization": f"Bearer {operator_token}"}
    with httpx.Client(base_url=broker, timeout=10.0, trust_env=False) as client:
        if public_key_b64 is None:
            public_key_b64 = str(client.get("/.well-known/institution").raise_for_status().json()["signing_public_key"])
        head = client.get("/provision-log/tree-head", headers=headers).raise_for_status().json()
        tree_head = verify_tree_head(head, public_key_b64)
        response = client.get(
            "/provision-log/inclusion", params={"query_id": query_id, "tree_size": tree_head.tree_size}, headers=headers
        )
        if response.status_code != 200:
            raise AuditFailure(f"the broker gave no inclusion proof: {response.status_code} {response.text}")
        verify_record_inclusion(tree_head, response.json())
    return f"record {query_id} is leaf {response.json()['leaf_index']} of the signed tree of size {tree_head.tree_size}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devnet.audit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify one provision record against a signed tree head")
    verify.add_argument("--broker", required=True, help="the broker's base URL")
    verify.add_argument("--operator-token", required=True)
    verify.add_argument("--query-id", required=True)
    verify.add_argument("--public-key", help="the broker's Ed25519 key (base64); default: its /.well-known/institution")
    args = parser.parse_args(argv)
    try:
        print(audit_record(args.broker, args.operator_token, args.query_id, args.public_key))
    except (AuditFailure, httpx.HTTPError, KeyError, ValueError) as error:
        print(f"NOT VERIFIED: {error}", file=sys.stderr)
        return 1
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
