"""The provision log's Merkle tree on disk, inside the records themselves (services.log_tree):
each record's row holds its leaf hash, the subtrees its leaf completes and the frontier after it,
so an append reads only the last row and roots and proofs read O(log n) rows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from broker.provision_records.merkle import leaf_fields
from broker.provision_records.models import ProvisionRecord
from services import log_tree
from services.log_audit import record_leaf_hash

TREE = log_tree.StoredTree(ProvisionRecord)


async def tree_size(session: AsyncSession) -> int:
    return await TREE.size(session)


async def log_end(session: AsyncSession) -> tuple[int, bytes]:
    """The next leaf's index and the frontier it extends, from the last row alone."""
    return await TREE.end(session)


def place_leaf(record: ProvisionRecord, frontier: bytes) -> None:
    """Make `record` (with its leaf_index set) the next leaf, hashed over its public fields."""
    log_tree.place_leaf(record, record_leaf_hash(leaf_fields(record)), frontier)


async def stored_root(session: AsyncSession, size: int) -> bytes:
    return await TREE.root(session, size)


async def stored_inclusion_proof(session: AsyncSession, index: int, size: int) -> list[bytes]:
    return await TREE.inclusion_proof(session, index, size)


async def stored_consistency_proof(session: AsyncSession, first: int, second: int) -> list[bytes]:
    return await TREE.consistency_proof(session, first, second)
