"""The provision log's RFC 9162 Merkle tree, checked against a literal transcription of the RFC's
recursive definitions (over raw leaves, with no shared code) for every tree size hypothesis picks;
and the stored-subtree answers (what the broker keeps on disk) against those reference functions."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from services.merkle import (
    EMPTY_ROOT,
    Node,
    append_leaf,
    complete_subtrees,
    completing_leaf,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    range_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def naive_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 §2.1.1 writes it."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [naive_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, leaves[:k], b), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


leaf_lists = st.lists(st.binary(max_size=16), min_size=1, max_size=70)


def flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


@given(st.lists(st.binary(max_size=16), max_size=70))
def test_root_matches_the_rfc_definition_for_every_size(leaves: list[bytes]) -> None:
    assert root_hash([leaf_hash(leaf) for leaf in leaves]) == naive_mth(leaves)


def test_empty_log_has_the_hash_of_nothing_as_root() -> None:
    assert root_hash([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@given(leaf_lists, st.data())
def test_every_inclusion_proof_verifies_and_a_tampered_leaf_or_proof_does_not(
    leaves: list[bytes], data: st.DataObject
) -> None:
    hashes = [leaf_hash(leaf) for leaf in leaves]
    root, n = naive_mth(leaves), len(leaves)
    index = data.draw(st.integers(0, n - 1))
    proof = inclusion_proof(index, hashes)
    assert proof == naive_path(index, leaves)
    assert verify_inclusion(index, n, hashes[index], proof, root)
    assert not verify_inclusion(index, n, leaf_hash(leaves[index] + b"x"), proof, root)
    assert not verify_inclusion(index, n, hashes[index], proof, flip(root))
    assert not verify_inclusion(n, n, hashes[index], proof, root)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        tampered = [*proof[:at], flip(proof[at]), *proof[at + 1 :]]
        assert not verify_inclusion(index, n, hashes[index], tampered, root)
        assert not verify_inclusion(index, n, hashes[index], proof[:-1], root)
        assert not verify_inclusion(index, n, hashes[index], [*proof, proof[0]], root)


@given(leaf_lists, st.data())
def test_every_consistency_proof_verifies_and_fails_for_a_wrong_old_root(
    leaves: list[bytes], data: st.DataObject
) -> None:
    hashes = [leaf_hash(leaf) for leaf in leaves]
    n = len(leaves)
    m = data.draw(st.integers(1, n))
    old_root, new_root = naive_mth(leaves[:m]), naive_mth(leaves)
    proof = consistency_proof(m, hashes)
    assert proof == (naive_subproof(m, leaves, True) if m < n else [])
    assert verify_consistency(m, n, old_root, new_root, proof)
    assert not verify_consistency(m, n, flip(old_root), new_root, proof)
    assert not verify_consistency(m, n, old_root, flip(new_root), proof)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        tampered = [*proof[:at], flip(proof[at]), *proof[at + 1 :]]
        assert not verify_consistency(m, n, old_root, new_root, tampered)


def stored_subtrees(hashes: list[bytes]) -> dict[Node, bytes]:
    """The complete subtrees as the broker stores them: each append sees only the frontier the
    previous one left, and leaves behind the subtrees it completed and the new frontier."""
    nodes: dict[Node, bytes] = {}
    frontier: list[bytes] = []
    for size, leaf in enumerate(hashes):
        frontier, completed = append_leaf(frontier, size, leaf)
        for level, digest in enumerate([leaf, *completed]):
            nodes[(level, size >> level)] = digest
            assert completing_leaf((level, size >> level)) == size
        assert frontier == [nodes[node] for node in complete_subtrees(0, size + 1)]
    return nodes


@given(st.integers(1, 600), st.data())
def test_stored_subtrees_answer_as_the_reference_for_any_size_and_index(size: int, data: st.DataObject) -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    nodes = stored_subtrees(hashes)
    assert len(nodes) == 2 * size - bin(size).count("1")  # every complete subtree, nothing more
    n = data.draw(st.integers(0, size), label="tree size")
    prefix = hashes[:n]
    assert range_hash(0, n, nodes) == root_hash(prefix)
    if n:
        index = data.draw(st.integers(0, n - 1), label="leaf")
        stored_path = [range_hash(start, end, nodes) for start, end in inclusion_ranges(index, n)]
        assert stored_path == inclusion_proof(index, prefix)
        # O(log n) subtrees per proof, however large the tree
        assert sum(len(complete_subtrees(a, b)) for a, b in inclusion_ranges(index, n)) <= 2 * n.bit_length()
    first = data.draw(st.integers(0, n), label="first")
    stored_proof = [range_hash(start, end, nodes) for start, end in consistency_ranges(first, n)]
    assert stored_proof == consistency_proof(first, prefix)
