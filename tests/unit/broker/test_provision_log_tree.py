"""The provision log's tree as the broker stores it: complete subtrees written with each record,
so roots and proofs never read every leaf. Checked against the reference functions of
services.merkle for every size, index and prefix of a real log in a real database, including one
that two broker replicas appended to at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select

from broker.models import Base
from broker.provision_records.models import ProvisionRecord
from broker.provision_records.service import QueryFacts, record_provision, record_provisions
from broker.provision_records.tree import (
    stored_consistency_proof,
    stored_inclusion_proof,
    stored_root,
    tree_size,
)
from services.db import Database
from services.merkle import consistency_proof, inclusion_proof, root_hash

# Appended one by one and in batches (one transaction each): 37 leaves, past 32, so the tree has
# a complete left half and a ragged right one.
BATCHES = (1, 3, 1, 7, 2, 16, 7)
LEAVES = sum(BATCHES)
# Concurrent appends: PostgreSQL serialises them with an advisory lock; on SQLite each round of
# conflicts lets one writer through, and append_in_order gives each writer 20 attempts.
CONCURRENT = 12


@pytest.fixture
async def replicas(database_url_factory: Callable[[str], str]) -> AsyncIterator[tuple[Database, Database]]:
    """Two brokers' connections to one database: no state but the database is shared."""
    url = database_url_factory("broker_log")
    first, second = Database(url), Database(url)
    await first.create_tables(Base.metadata)
    yield first, second
    await first.dispose()
    await second.dispose()


def facts(requester: str) -> QueryFacts:
    return QueryFacts(
        query_id=uuid.uuid4().hex,
        requester_code=requester,
        provider_code="132110",
        procedure_code="child_allowance.certification",
        item_codes=["tax.income_levy"],
        whitelist_version="2026-10-01",
    )


async def leaf_hashes(database: Database) -> list[bytes]:
    async with database.sessions() as session:
        rows = await session.scalars(select(ProvisionRecord.leaf_hash).order_by(ProvisionRecord.leaf_index))
        return [bytes.fromhex(value) for value in rows]


async def test_stored_tree_answers_as_the_reference_for_every_size_index_and_prefix(
    replicas: tuple[Database, Database],
) -> None:
    database, _ = replicas
    for size in BATCHES:
        await record_provisions(database, [(facts("132136"), "refused", "not_on_whitelist") for _ in range(size)])
    hashes = await leaf_hashes(database)
    async with database.sessions() as session:
        assert await tree_size(session) == LEAVES
        for size in range(LEAVES + 1):
            assert await stored_root(session, size) == root_hash(hashes[:size]), size
            for index in range(size):
                assert await stored_inclusion_proof(session, index, size) == inclusion_proof(index, hashes[:size])
            for first in range(1, size + 1):
                assert await stored_consistency_proof(session, first, size) == consistency_proof(first, hashes[:size])


async def test_two_replicas_appending_at_once_keep_the_log_dense_and_the_tree_whole(
    replicas: tuple[Database, Database],
) -> None:
    await asyncio.gather(
        *(
            record_provision(replicas[i % 2], facts(f"13213{i % 2}"), "refused", "not_on_whitelist")
            for i in range(CONCURRENT)
        )
    )
    hashes = await leaf_hashes(replicas[0])
    assert len(hashes) == CONCURRENT
    async with replicas[1].sessions() as session:
        assert await tree_size(session) == CONCURRENT
        assert await stored_root(session, CONCURRENT) == root_hash(hashes)
        for index in range(CONCURRENT):
            assert await stored_inclusion_proof(session, index, CONCURRENT) == inclusion_proof(index, hashes)
