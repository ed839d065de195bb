"""services.log_tree, the Merkle log kept in the rows of any table of log entries: for logs that
hypothesis appends in batches of any sizes, the stored root and every inclusion and consistency
proof are those the reference functions of services.merkle compute from all the leaves."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.db import Database, append_in_order, new_metadata
from services.log_tree import LogLeaf, StoredTree, place_leaf
from services.merkle import consistency_proof, inclusion_proof, leaf_hash, root_hash


class Base(DeclarativeBase):
    metadata = new_metadata()


class Entry(LogLeaf, Base):
    """A log entry of nothing but a text: the tree knows no more of its rows than LogLeaf."""

    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(String(32))


TREE = StoredTree(Entry)


async def append(database: Database, texts: list[str]) -> None:
    async def add_next(session: AsyncSession) -> None:
        index, frontier = await TREE.end(session)
        for text in texts:
            entry = Entry(text=text, leaf_index=index)
            place_leaf(entry, leaf_hash(text.encode()), frontier)
            session.add(entry)
            index, frontier = index + 1, entry.frontier

    await append_in_order(database, add_next, log="test log")


async def check(batches: list[int]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite+aiosqlite:///{Path(directory) / 'log.db'}")
        await database.create_tables(Base.metadata)
        texts = [hashlib.sha256(str(i).encode()).hexdigest()[:8] for i in range(sum(batches))]
        done = 0
        for size in batches:
            await append(database, texts[done : done + size])
            done += size
        leaves = [leaf_hash(text.encode()) for text in texts]
        async with database.sessions() as session:
            assert await TREE.size(session) == len(leaves)
            assert list(await session.scalars(select(Entry.leaf_index).order_by(Entry.id))) == list(range(len(leaves)))
            for size in range(len(leaves) + 1):
                assert await TREE.root(session, size) == root_hash(leaves[:size])
                for index in range(size):
                    assert await TREE.inclusion_proof(session, index, size) == inclusion_proof(index, leaves[:size])
                for first in range(1, size + 1):
                    expected = consistency_proof(first, leaves[:size])
                    assert await TREE.consistency_proof(session, first, size) == expected
        await database.dispose()


@settings(max_examples=20)
@given(st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=4))
def test_stored_tree_proves_what_the_reference_functions_compute(batches: list[int]) -> None:
    asyncio.run(check(batches))
