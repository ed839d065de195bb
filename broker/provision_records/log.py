"""The provision log: every provision record as a leaf of an RFC 9162 Merkle tree, so that an
auditor holding a signed tree head can check that a record is in the log unaltered and that the
log only ever grew. The broker signs tree heads with its own signing key (`broker.broker`).

Proofs are computed from the stored leaf hashes on each request (see services.merkle).
"""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.provision_records.merkle import leaf_fields
from broker.provision_records.models import ProvisionRecord
from broker.provision_records.schemas import ConsistencyProofOut, InclusionProofOut, LoggedRecord, TreeHeadOut
from broker.symbols.service import person_for_symbol
from services.keys import ServiceKeys, b64
from services.merkle import TreeHead, consistency_proof, inclusion_proof, root_hash
from services.problems import BadRequest, Forbidden, NotFound


async def tree_size(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ProvisionRecord)) or 0)


async def _leaf_hashes(session: AsyncSession, size: int) -> list[bytes]:
    rows = await session.scalars(
        select(ProvisionRecord.leaf_hash).where(ProvisionRecord.leaf_index < size).order_by(ProvisionRecord.leaf_index)
    )
    return [bytes.fromhex(value) for value in rows]


async def _checked_size(session: AsyncSession, requested: int | None) -> int:
    current = await tree_size(session)
    if requested is None:
        return current
    if not 0 <= requested <= current:
        raise BadRequest("tree_size_invalid", f"The log holds {current} records; no tree of size {requested}.")
    return requested


async def signed_tree_head(session: AsyncSession, keys: ServiceKeys) -> TreeHeadOut:
    size = await tree_size(session)
    head = TreeHead(size, int(time.time() * 1000), root_hash(await _leaf_hashes(session, size)))
    return TreeHeadOut(
        tree_size=head.tree_size,
        root_hash=b64(head.root_hash),
        timestamp=head.timestamp,
        signature=b64(head.sign(keys.signing_key)),
        key_id=keys.key_id,
    )


async def _proof_for(session: AsyncSession, record: ProvisionRecord, requested_size: int | None) -> InclusionProofOut:
    size = await _checked_size(session, requested_size)
    if record.leaf_index >= size:
        raise BadRequest(
            "tree_size_invalid", f"Record {record.query_id} is leaf {record.leaf_index}, not in a tree of size {size}."
        )
    hashes = await _leaf_hashes(session, size)
    return InclusionProofOut(
        leaf_index=record.leaf_index,
        tree_size=size,
        leaf_hash=b64(bytes.fromhex(record.leaf_hash)),
        audit_path=[b64(node) for node in inclusion_proof(record.leaf_index, hashes)],
    )


async def _record(session: AsyncSession, query_id: str) -> ProvisionRecord:
    record = await session.get(ProvisionRecord, query_id)
    if record is None:
        raise NotFound("unknown_record", f"No provision record {query_id}.")
    return record


async def record_inclusion(session: AsyncSession, query_id: str, requested_size: int | None) -> InclusionProofOut:
    """For operators: the proof and the record's logged fields, so the leaf can be recomputed."""
    record = await _record(session, query_id)
    proof = await _proof_for(session, record, requested_size)
    proof.record = LoggedRecord.model_validate(leaf_fields(record))
    return proof


async def personal_record_inclusion(
    session: AsyncSession, institution_code: str, symbol: str, query_id: str, requested_size: int | None
) -> InclusionProofOut:
    """For My Portal: the proof of one of the person's own records (hashes only, no fields)."""
    record = await _record(session, query_id)
    serial = await person_for_symbol(session, institution_code, symbol)
    if serial is None or record.person_serial != serial:
        raise Forbidden("record_not_yours", f"Provision record {query_id} is not about this person.")
    return await _proof_for(session, record, requested_size)


async def log_consistency(session: AsyncSession, first: int, second: int) -> ConsistencyProofOut:
    current = await tree_size(session)
    if not 0 < first <= second <= current:
        raise BadRequest(
            "tree_size_invalid", f"Need 0 < first ≤ second ≤ {current} (the log's size); got {first}, {second}."
        )
    hashes = await _leaf_hashes(session, second)
    return ConsistencyProofOut(
        first=first, second=second, proof=[b64(node) for node in consistency_proof(first, hashes)]
    )
