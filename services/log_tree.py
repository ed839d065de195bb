"""An RFC 9162 Merkle log stored in the rows of its own entries, for any table of log entries:
the broker's provision log and an intermediate server's staff access log keep theirs this way.

Each entry's row holds its leaf hash, the complete subtrees (services.merkle.Node) its leaf
completes and the tree's frontier after it (`LogLeaf`). An append reads only the last row (as it
must anyway, for the next index) and writes only its own, so the log costs a write no extra round
trip; roots and proofs read the O(log n) rows holding the subtrees they need, in one query, never
every leaf. The database is the only truth, so any number of replicas append to and prove from
the same tree.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Generic, TypeVar

from sqlalchemy import BigInteger, Integer, LargeBinary, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Database
from services.keys import ServiceKeys
from services.merkle import (
    Node,
    TreeHead,
    append_leaf,
    complete_subtrees,
    completing_leaf,
    consistency_ranges,
    inclusion_ranges,
    range_hash,
)

HASH = 32


class LogLeaf:
    """Mixin for a table whose rows are the leaves of a stored log tree."""

    leaf_index: Mapped[int] = mapped_column(Integer, unique=True)  # dense from 0, in commit order
    leaf_hash: Mapped[str] = mapped_column(String(64))  # hex
    # 32-byte hashes of the complete subtrees this leaf completes above itself, level 1 upward
    subtree_hashes: Mapped[bytes] = mapped_column(LargeBinary)
    # 32-byte hashes of the complete subtrees of the tree of leaf_index + 1 leaves, largest first
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


LeafT = TypeVar("LeafT", bound=LogLeaf)


class SignedHead:
    """Mixin for a table of the heads a log's keeper signed, one per tree size."""

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    timestamp: Mapped[int] = mapped_column(BigInteger)  # ms since the epoch
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(64))


HeadT = TypeVar("HeadT", bound=SignedHead)


def _hashes(blob: bytes) -> list[bytes]:
    return [blob[at : at + HASH] for at in range(0, len(blob), HASH)]


def place_leaf(row: LogLeaf, leaf: bytes, frontier: bytes) -> None:
    """Make `row` (with its leaf_index set) the next leaf, hashed `leaf`: its leaf hash, the
    subtrees it completes and the new frontier, written with the row in the append's transaction."""
    new_frontier, completed = append_leaf(_hashes(frontier), row.leaf_index, leaf)
    row.leaf_hash = leaf.hex()
    row.subtree_hashes = b"".join(completed)
    row.frontier = b"".join(new_frontier)


class StoredTree(Generic[LeafT]):
    """The tree kept in the rows of `model`."""

    def __init__(self, model: type[LeafT]) -> None:
        self.model = model

    async def size(self, session: AsyncSession) -> int:
        """Leaves are dense from 0, so the size is the last index + 1 (one index lookup, no count)."""
        last = await session.scalar(select(func.max(self.model.leaf_index)))
        return 0 if last is None else last + 1

    async def end(self, session: AsyncSession) -> tuple[int, bytes]:
        """The next leaf's index and the frontier it extends, from the last row alone."""
        last = (
            await session.execute(
                select(self.model.leaf_index, self.model.frontier).order_by(self.model.leaf_index.desc()).limit(1)
            )
        ).first()
        return (0, b"") if last is None else (last.leaf_index + 1, last.frontier)

    async def _nodes(self, session: AsyncSession, wanted: Collection[Node]) -> dict[Node, bytes]:
        model = self.model
        rows = await session.execute(
            select(model.leaf_index, model.leaf_hash, model.subtree_hashes).where(
                model.leaf_index.in_({completing_leaf(node) for node in wanted})
            )
        )
        by_leaf = {index: [bytes.fromhex(leaf), *_hashes(subtrees)] for index, leaf, subtrees in rows}
        return {(level, position): by_leaf[completing_leaf((level, position))][level] for level, position in wanted}

    async def _range_hashes(self, session: AsyncSession, ranges: list[tuple[int, int]]) -> list[bytes]:
        wanted = {node for start, end in ranges for node in complete_subtrees(start, end)}
        nodes = await self._nodes(session, wanted) if wanted else {}
        return [range_hash(start, end, nodes) for start, end in ranges]

    async def root(self, session: AsyncSession, size: int) -> bytes:
        [root] = await self._range_hashes(session, [(0, size)])
        return root

    async def inclusion_proof(self, session: AsyncSession, index: int, size: int) -> list[bytes]:
        return await self._range_hashes(session, inclusion_ranges(index, size))

    async def consistency_proof(self, session: AsyncSession, first: int, second: int) -> list[bytes]:
        return await self._range_hashes(session, consistency_ranges(first, second))


async def latest_signed_head(
    database: Database,
    tree: StoredTree[LeafT],
    head_model: type[HeadT],
    head_kind: type[TreeHead],
    keys: ServiceKeys,
) -> HeadT:
    """The latest stored head while the log has not grown; otherwise a new one, signed (as a
    `head_kind`, whose context names the log) and stored. Of two replicas signing the same size at
    once, the first to commit wins and both answer it."""
    async with database.sessions() as session:
        size = await tree.size(session)
        latest = await session.scalar(select(head_model).order_by(head_model.tree_size.desc()).limit(1))
        if latest is not None and latest.tree_size == size:
            return latest
        current = keys.current()  # one generation for the signature and its key id
        head = head_kind(size, int(time.time() * 1000), await tree.root(session, size))
        stored = head_model()
        stored.tree_size, stored.timestamp, stored.root_hash = size, head.timestamp, head.root_hash
        stored.signature, stored.key_id = head.sign(current.signing_key), current.key_id
        session.add(stored)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            winner = await session.get(head_model, size)
            if winner is None:
                raise
            return winner
        return stored
