"""What a provision-log leaf is, and the checks anyone holding only the broker's public key can run
on the log: a signed tree head, a record's inclusion, a whole downloaded log. In the kernel because
the broker (which writes leaves), My Portal (which checks a resident's records) and the auditor's
CLI (devnet/audit.py) must agree on every byte.

A leaf is the canonical JSON (services.merkle.canonical_json) of a record's public fields
(`PUBLIC_FIELDS`). The person is in it only as `subject_commitment`: SHA-256 over a random salt
kept by the broker, the person serial and the provider's symbol. The broker opens the commitment
to its operator; anyone else learns nothing of the person from a leaf, yet the broker cannot
later claim the record was about someone else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from services.keys import public_key_from_b64, unb64
from services.merkle import TreeHead, leaf_hash, root_hash, verify_inclusion

PUBLIC_FIELDS = (
    "item_codes",
    "latency_ms",
    "outcome",
    "outcome_code",
    "procedure_code",
    "provider_code",
    "query_id",
    "requested_at",
    "requester_code",
    "subject_commitment",
    "whitelist_row",
    "whitelist_version",
)


class AuditFailure(Exception):
    """The log failed a check; the message says which."""


def subject_commitment(salt_hex: str, person_serial: str | None, provider_symbol: str | None) -> str:
    """Hex SHA-256 of the canonical JSON array [salt, serial, symbol]: unambiguous, and hiding
    while the 32-byte salt stays with the broker."""
    opening = json.dumps([salt_hex, person_serial, provider_symbol], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(opening.encode()).hexdigest()


def leaf_bytes(record: Mapping[str, Any]) -> bytes:
    """canonical_json of the record's PUBLIC_FIELDS, written out field by field: the same bytes
    (tests/unit/services/test_log_audit.py holds it to that) at half of json.dumps's cost, which
    decides whether a million-entry audit fits in seconds. Text fields must be str (only
    whitelist_row may be None) and latency_ms an int: anything else raises TypeError rather than
    hash like a different value."""
    items, latency, row = record["item_codes"], record["latency_ms"], record["whitelist_row"]
    if type(items) is not list or type(latency) is not int:
        raise TypeError("item_codes must be a list and latency_ms an integer")
    text = encode_basestring  # JSON string literal of a str; TypeError for anything else
    return (
        f'{{"item_codes":[{",".join(map(text, items))}],"latency_ms":{latency},'
        f'"outcome":{text(record["outcome"])},"outcome_code":{text(record["outcome_code"])},'
        f'"procedure_code":{text(record["procedure_code"])},"provider_code":{text(record["provider_code"])},'
        f'"query_id":{text(record["query_id"])},"requested_at":{text(record["requested_at"])},'
        f'"requester_code":{text(record["requester_code"])},'
        f'"subject_commitment":{text(record["subject_commitment"])},'
        f'"whitelist_row":{"null" if row is None else text(row)},'
        f'"whitelist_version":{text(record["whitelist_version"])}}}'
    ).encode()


def record_leaf_hash(record: Mapping[str, Any]) -> bytes:
    """The leaf hash of a record given as its public fields (other keys are ignored)."""
    return leaf_hash(leaf_bytes(record))


def verify_tree_head(head: Mapping[str, Any], public_key_b64: str) -> TreeHead:
    """The head, if the broker's key signed it."""
    try:
        tree_head = TreeHead(int(head["tree_size"]), int(head["timestamp"]), unb64(head["root_hash"]))
        signed = tree_head.verify(public_key_from_b64(public_key_b64), unb64(head["signature"]))
    except (KeyError, TypeError, ValueError) as error:
        raise AuditFailure(f"the tree head is malformed: {error!r}") from error
    if not signed:
        raise AuditFailure("the tree head's signature does not verify with the broker's public key")
    return tree_head


def verify_opening(record: Mapping[str, Any], opening: Mapping[str, Any]) -> None:
    """The operator's opening (salt, serial, symbol) is the one the record's leaf committed to."""
    expected = subject_commitment(opening["salt"], opening["person_serial"], opening["provider_symbol"])
    if expected != record["subject_commitment"]:
        raise AuditFailure(
            f"record {record.get('query_id')}: the person serial or provider symbol differs from what the log holds"
        )


def verify_record_inclusion(tree_head: TreeHead, proof: Mapping[str, Any]) -> None:
    """The proof's leaf is in the signed tree. With the record's public fields, the leaf is
    recomputed from them (so an edited record fails); with an opening, that too is checked."""
    try:
        _verify_record_inclusion(tree_head, proof)
    except (KeyError, TypeError, ValueError) as error:
        raise AuditFailure(f"the inclusion proof is malformed: {error!r}") from error


def _verify_record_inclusion(tree_head: TreeHead, proof: Mapping[str, Any]) -> None:
    leaf = unb64(proof["leaf_hash"])
    record = proof.get("record")
    if record is not None:
        if record_leaf_hash(record) != leaf:
            raise AuditFailure(f"record {record.get('query_id')} differs from what the log holds (leaf hash mismatch)")
        if proof.get("opening") is not None:
            verify_opening(record, proof["opening"])
    if int(proof["tree_size"]) != tree_head.tree_size:
        raise AuditFailure(f"the proof is for tree size {proof['tree_size']}, the head for {tree_head.tree_size}")
    path = [unb64(node) for node in proof["audit_path"]]
    if not verify_inclusion(int(proof["leaf_index"]), tree_head.tree_size, leaf, path, tree_head.root_hash):
        raise AuditFailure(f"leaf {proof['leaf_index']} is not in the signed tree of size {tree_head.tree_size}")


def verify_entries(tree_head: TreeHead, entries: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """A whole log, downloaded in leaf order, against its signed head: the entries' fields hash to
    leaves that make the signed root. On a mismatch, names the first entry whose fields no longer
    hash to its logged leaf. Returns the leaf hashes."""
    if len(entries) != tree_head.tree_size:
        raise AuditFailure(f"the log gave {len(entries)} entries for a signed tree of size {tree_head.tree_size}")
    try:
        leaves = [record_leaf_hash(entry) for entry in entries]
    except (KeyError, TypeError) as error:
        raise AuditFailure(f"an entry is malformed: {error}") from error
    if root_hash(leaves) == tree_head.root_hash:
        return leaves
    for index, (entry, leaf) in enumerate(zip(entries, leaves, strict=True)):
        if entry.get("leaf_index") != index or unb64(entry["leaf_hash"]) != leaf:
            raise AuditFailure(f"entry {index} ({entry.get('query_id')}) differs from what the log holds")
    raise AuditFailure(f"the {len(leaves)} logged leaves do not make the signed root")
