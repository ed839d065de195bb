"""What a staff access log leaf is, and the checks of a whole downloaded access log. In the kernel
because the intermediate server (which writes leaves and says whether its log is intact), the
broker (which verifies the heads it anchors) and the auditor's CLI (devnet/audit.py) must agree
on every byte.

A leaf is the canonical JSON (services.merkle.canonical_json) of an entry's `LEAF_FIELDS`. The
log is an RFC 9162 tree stored in its rows (services.log_tree); its heads are signed by the
intermediate server under their own context, so no head of one log passes for one of another.
An entry is checked three ways, each naming the first entry it fails on: its place (leaf_index
dense from 0: a deleted row leaves a gap), its fields against its stored leaf hash (an edited
row), and the frontier stored with it against the one recomputed from every leaf so far (an
edited row whose hash was recomputed too, or rows renumbered over a deletion). A rewrite of the
whole tail with every column recomputed passes those; it fails the signed heads, above all those
anchored at the broker, which the intermediate server cannot take back.

An entry past the log's retention may be erased (`erased_by` names the disposal): its fields can
no longer be hashed, so its stored leaf hash stands for it, and the signed heads vouch that the
hash is the one logged. Only the oldest entries are ever erased, so erased entries must be a prefix
of the log: an entry erased after one that is not is reported as rewritten.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.keys import public_key_from_b64, unb64
from services.log_audit import AuditFailure
from services.merkle import EMPTY_ROOT, TreeHead, append_leaf, canonical_json, leaf_hash, node_hash

ACCESS_LOG = "staff_access"
ACCESS_LOG_HEAD_CONTEXT = b"mynumber-net/staff-access-log/tree-head/v1\x00"
LEAF_FIELDS = (
    "address_number",
    "at",
    "department",
    "item_codes",
    "outcome",
    "procedure_code",
    "provider_code",
    "purpose",
    "staff_id",
)


@dataclass(frozen=True)
class AccessLogHead(TreeHead):
    """A tree head of a staff access log, as the intermediate server signs it."""

    def signed_message(self) -> bytes:
        """context || tree_size (u64 BE) || timestamp (u64 BE) || root_hash (32 bytes)."""
        return ACCESS_LOG_HEAD_CONTEXT + struct.pack(">QQ", self.tree_size, self.timestamp) + self.root_hash


def access_leaf_hash(entry: Mapping[str, Any]) -> bytes:
    """The leaf hash of an entry given as its fields (other keys are ignored)."""
    return leaf_hash(canonical_json({name: entry[name] for name in LEAF_FIELDS}))


def entry_leaf(entry: Mapping[str, Any]) -> bytes:
    """The leaf hash an entry stands for: recomputed from its fields, or its stored hash once erased."""
    if entry.get("erased_by") is not None:
        return unb64(entry["leaf_hash"])
    return access_leaf_hash(entry)


def access_log_head(head: Mapping[str, Any]) -> AccessLogHead:
    try:
        return AccessLogHead(int(head["tree_size"]), int(head["timestamp"]), unb64(head["root_hash"]))
    except (KeyError, TypeError, ValueError) as error:
        raise AuditFailure(f"the tree head is malformed: {error!r}") from error


def head_signed(head: Mapping[str, Any], public_key_b64: str) -> bool:
    """Whether the key signed this head (False, not an error, for a malformed signature)."""
    try:
        return access_log_head(head).verify(public_key_from_b64(public_key_b64), unb64(head["signature"]))
    except (KeyError, TypeError, ValueError):
        return False


def _name(entry: Mapping[str, Any], index: int) -> str:
    return f"entry {index} (seq {entry.get('seq')})"


def first_bad_entry(entries: Sequence[Mapping[str, Any]]) -> tuple[int, str] | None:
    """Entries in leaf order, each with its fields, `leaf_index`, `leaf_hash` and `frontier`
    (base64): the position and description of the first entry that is not what was logged."""
    frontier: list[bytes] = []
    erasing = True  # still in the erased prefix
    for index, entry in enumerate(entries):
        try:
            if entry["leaf_index"] != index:
                missing = "missing" if entry["leaf_index"] > index else "duplicated"
                return index, f"leaf {index} is {missing}: the log continues with leaf {entry['leaf_index']}"
            erased = entry.get("erased_by") is not None
            if erased and not erasing:
                return index, f"{_name(entry, index)} is marked erased after entries that are not (not a disposal's)"
            erasing = erased
            leaf = entry_leaf(entry)
            if unb64(entry["leaf_hash"]) != leaf:
                return index, f"{_name(entry, index)} differs from what was logged (leaf hash mismatch)"
            frontier, _ = append_leaf(frontier, index, leaf)
            if unb64(entry["frontier"]) != b"".join(frontier):
                return index, f"{_name(entry, index)} or one before it was rewritten (frontier mismatch)"
        except (KeyError, TypeError, ValueError) as error:
            return index, f"{_name(entry, index)} is malformed: {error!r}"
    return None


def check_access_log(
    entries: Sequence[Mapping[str, Any]],
    head: Mapping[str, Any],
    anchors: Sequence[Mapping[str, Any]],
    public_keys: Mapping[str, str],
) -> str:
    """A whole downloaded access log against the intermediate server's latest signed head and every
    anchor the broker holds: each head signed by its key (`public_keys`: key id → base64 public
    key) and each the root of a prefix of the log. Raises AuditFailure naming the first bad entry."""
    bad = first_bad_entry(entries)
    if bad is not None:
        raise AuditFailure(bad[1])
    leaves = [entry_leaf(entry) for entry in entries]
    checked = [("the intermediate server's latest head", head), *(("the broker's anchor", a) for a in anchors)]
    for source, signed in checked:
        key = public_keys.get(str(signed.get("key_id")))
        if key is None or not head_signed(signed, key):
            raise AuditFailure(f"{source} of size {signed.get('tree_size')} is not signed by the intermediate server")
    departure = first_departure(leaves, [access_log_head(signed) for _, signed in checked])
    if departure is not None:
        raise AuditFailure(departure[1])
    erased = sum(1 for entry in entries if entry.get("erased_by") is not None)
    erased_note = f" ({erased} erased past retention)" if erased else ""
    return f"all {len(leaves)} entries are as logged{erased_note} and extend {len(anchors)} anchor(s) at the broker"


def first_departure(leaves: Sequence[bytes], heads: Sequence[TreeHead]) -> tuple[int, str] | None:
    """The leaves against heads signed earlier: each head's tree must be a prefix of the log. On a
    departure, the position where the rewrite began as closely as the heads tell it (the original
    leaves are gone): after the largest signed prefix that still holds."""
    sizes = sorted({head.tree_size for head in heads})
    roots = _prefix_roots(leaves, [size for size in sizes if size <= len(leaves)])
    holding = 0
    for head in sorted(heads, key=lambda head: head.tree_size):
        if head.tree_size > len(leaves):
            return len(leaves), (
                f"the log holds {len(leaves)} entries, fewer than the head of size {head.tree_size} signed at "
                f"{head.timestamp}: entries from {len(leaves)} on were deleted"
            )
        if roots[head.tree_size] != head.root_hash:
            return holding, (
                f"the first {head.tree_size} entries no longer make the root signed at {head.timestamp}: an entry "
                f"among {holding}..{head.tree_size - 1} was rewritten, the first suspect being entry {holding}"
            )
        holding = head.tree_size
    return None


def _prefix_roots(leaves: Sequence[bytes], sizes: Sequence[int]) -> dict[int, bytes]:
    """MTH of each prefix in `sizes` in one pass: the root of a prefix is the right fold of its
    frontier, so many heads cost the log one walk, not one each."""
    wanted, roots, frontier = set(sizes), {0: EMPTY_ROOT}, list[bytes]()
    for index, leaf in enumerate(leaves):
        frontier, _ = append_leaf(frontier, index, leaf)
        if index + 1 in wanted:
            root = frontier[-1]
            for node in reversed(frontier[:-1]):
                root = node_hash(node, root)
            roots[index + 1] = root
    return roots
