"""RFC 9162 (Certificate Transparency v2) Merkle trees: the tree hash, inclusion and consistency
proofs, and signed tree heads. Pure functions, in the kernel because both the broker (which
keeps the provision log) and an auditor's tools (which need nothing but the broker's public key)
use them.

The functions over a list of every leaf hash are the reference: `inclusion_proof` and
`consistency_proof` transcribe the RFC's recursive definitions; `root_hash` computes the same MTH
bottom-up, fast enough for a whole-log audit. A keeper of a large log stores the tree's complete
subtrees instead (`Node`): each append completes one per trailing 1 bit of the old size, computed
from the old frontier alone (`append_leaf`), and any root or proof is a function of O(log n) of
them (`inclusion_ranges`, `consistency_ranges`, `range_hash`), so nothing but a whole-log audit
reads every leaf.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

EMPTY_ROOT = hashlib.sha256(b"").digest()
TREE_HEAD_CONTEXT = b"mynumber-net/provision-log/tree-head/v1\x00"


def leaf_hash(leaf: bytes) -> bytes:
    """HASH(0x00 || leaf): the 0x00/0x01 prefixes keep a leaf from posing as an inner node."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    """The one serialization a leaf is hashed over: sorted keys, no spaces, UTF-8."""
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaves already hashed with `leaf_hash`, level by level: pair neighbours, carry
    a lone last node up unchanged. That is the RFC's recursive split (the tree is left-full), without
    recursion or slicing, so a whole-log audit of a million leaves stays fast."""
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    sha256 = hashlib.sha256
    while len(level) > 1:
        pairs = iter(level)
        paired = [sha256(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
        if len(level) & 1:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1)."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is not in a tree of size {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*inclusion_proof(index, leaf_hashes[:k]), root_hash(leaf_hashes[k:])]
    return [*inclusion_proof(index - k, leaf_hashes[k:]), root_hash(leaf_hashes[:k])]


def verify_inclusion(index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `leaf` (a leaf hash) sit at `index` of the tree with `root`?"""
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def consistency_proof(first: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 §2.1.4.1); empty when m is 0 or n."""
    n = len(leaf_hashes)
    if not 0 <= first <= n:
        raise ValueError(f"a tree of size {n} has no prefix of size {first}")
    if first == 0:
        return []
    return _subproof(first, leaf_hashes, complete=True)


def _subproof(m: int, leaves: Sequence[bytes], *, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root_hash(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete=complete), root_hash(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], complete=False), root_hash(leaves[:k])]


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of size `first` a prefix of the tree of size `second`?"""
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a complete subtree: the old root is the first node of the path
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


Node = tuple[int, int]
"""(level, index): the complete subtree over leaves [index·2^level, (index+1)·2^level)."""


def complete_subtrees(start: int, end: int) -> list[Node]:
    """The complete subtrees that tile leaves [start, end), largest first."""
    nodes: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) from stored complete subtrees, for the ranges the RFC's recursion visits
    (`inclusion_ranges`, `consistency_ranges`, the whole tree): there the tiling is the recursion's
    own left-full split, so the hash is its right fold. `nodes` must hold `complete_subtrees`."""
    if start == end:
        return EMPTY_ROOT
    tiles = complete_subtrees(start, end)
    result = nodes[tiles[-1]]
    for tile in reversed(tiles[:-1]):
        result = node_hash(nodes[tile], result)
    return result


def inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make up PATH(index, D[tree_size]), leaf to root."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf {index} is not in a tree of size {tree_size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, tree_size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
    return ranges[::-1]


def consistency_ranges(first: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make up PROOF(first, D[tree_size]), in proof order."""
    if not 0 <= first <= tree_size:
        raise ValueError(f"a tree of size {tree_size} has no prefix of size {first}")
    if first in (0, tree_size):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, complete = 0, tree_size, True
    while first != end - start:
        middle = start + _split(end - start)
        if first <= middle - start:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            first -= middle - start
            start, complete = middle, False
    if not complete:
        ranges.append((start, end))
    return ranges[::-1]


def completing_leaf(node: Node) -> int:
    """The leaf whose append completes `node`: its last leaf."""
    level, position = node
    return ((position + 1) << level) - 1


def append_leaf(frontier: Sequence[bytes], size: int, leaf: bytes) -> tuple[list[bytes], list[bytes]]:
    """Leaf `size` (a leaf hash) appended to the tree whose frontier (the hashes of
    complete_subtrees(0, size), largest first) is given: the new frontier, and the subtrees the
    leaf completes above itself, level 1 upward (one per trailing 1 bit of `size`)."""
    remaining = list(frontier)
    completed: list[bytes] = []
    current, level = leaf, 0
    while (size >> level) & 1:
        current = node_hash(remaining.pop(), current)
        completed.append(current)
        level += 1
    return [*remaining, current], completed


@dataclass(frozen=True)
class TreeHead:
    """A log's size and root at a moment (ms since the epoch), as its keeper signs it."""

    tree_size: int
    timestamp: int
    root_hash: bytes

    def signed_message(self) -> bytes:
        """context || tree_size (u64 BE) || timestamp (u64 BE) || root_hash (32 bytes)."""
        return TREE_HEAD_CONTEXT + struct.pack(">QQ", self.tree_size, self.timestamp) + self.root_hash

    def sign(self, key: Ed25519PrivateKey) -> bytes:
        return key.sign(self.signed_message())

    def verify(self, public_key: Ed25519PublicKey, signature: bytes) -> bool:
        try:
            public_key.verify(signature, self.signed_message())
        except InvalidSignature:
            return False
        return True
