"""The provision log's Merkle tree on disk, inside the records themselves: each record's row holds
the complete subtrees (services.merkle.Node) its leaf completes and the tree's frontier after it.
An append reads only the last row (as it must anyway, for the next index) and writes only its
own, so the log costs a query no extra round trip; roots and proofs read the O(log n) rows
holding the subtrees they need, in one query, never every leaf. The database is the only truth,
so any number of broker replicas append to and prove from the same tree.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.provision_records.merkle import leaf_fields
from broker.provision_records.models import ProvisionRecord
from services.log_audit import record_leaf_hash
from services.merkle import (
    Node,
    append_leaf,
    complete_subtrees,
    completing_leaf,
    consistency_ranges,
    inclusion_ranges,
    range_hash,
)

HASH = 32


def _hashes(blob: bytes) -> list[bytes]:
    return [blob[at : at + HASH] for at in range(0, len(blob), HASH)]


async def tree_size(session: AsyncSession) -> int:
    """Leaves are dense from 0, so the size is the last index + 1 (one index lookup, no count)."""
    last = await session.scalar(select(func.max(ProvisionRecord.leaf_index)))
    return 0 if last is None else last + 1


async def log_end(session: AsyncSession) -> tuple[int, bytes]:
    """The next leaf's index and the frontier it extends, from the last row alone."""
    last = (
        await session.execute(
            select(ProvisionRecord.leaf_index, ProvisionRecord.frontier)
            .order_by(ProvisionRecord.leaf_index.desc())
            .limit(1)
        )
    ).first()
    return (0, b"") if last is None else (last.leaf_index + 1, last.frontier)


def place_leaf(record: ProvisionRecord, frontier: bytes) -> None:
    """Make `record` (with its leaf_index set) the next leaf: its leaf hash, the subtrees it
    completes and the new frontier, written with the row in the append's one transaction."""
    leaf = record_leaf_hash(leaf_fields(record))
    new_frontier, completed = append_leaf(_hashes(frontier), record.leaf_index, leaf)
    record.leaf_hash = leaf.hex()
    record.subtree_hashes = b"".join(completed)
    record.frontier = b"".join(new_frontier)


async def _nodes(session: AsyncSession, wanted: Collection[Node]) -> dict[Node, bytes]:
    rows = await session.execute(
        select(ProvisionRecord.leaf_index, ProvisionRecord.leaf_hash, ProvisionRecord.subtree_hashes).where(
            ProvisionRecord.leaf_index.in_({completing_leaf(node) for node in wanted})
        )
    )
    by_leaf = {index: [bytes.fromhex(leaf), *_hashes(subtrees)] for index, leaf, subtrees in rows}
    return {(level, position): by_leaf[completing_leaf((level, position))][level] for level, position in wanted}


async def _range_hashes(session: AsyncSession, ranges: list[tuple[int, int]]) -> list[bytes]:
    wanted = {node for start, end in ranges for node in complete_subtrees(start, end)}
    nodes = await _nodes(session, wanted) if wanted else {}
    return [range_hash(start, end, nodes) for start, end in ranges]


async def stored_root(session: AsyncSession, size: int) -> bytes:
    [root] = await _range_hashes(session, [(0, size)])
    return root


async def stored_inclusion_proof(session: AsyncSession, index: int, size: int) -> list[bytes]:
    return await _range_hashes(session, inclusion_ranges(index, size))


async def stored_consistency_proof(session: AsyncSession, first: int, second: int) -> list[bytes]:
    return await _range_hashes(session, consistency_ranges(first, second))
