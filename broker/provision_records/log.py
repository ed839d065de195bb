"""The provision log: every provision record as a leaf of an RFC 9162 Merkle tree, so that an
auditor holding a signed tree head can check that a record is in the log unaltered and that the
log only ever grew. The broker signs tree heads with its own signing key (`broker.broker`) and
keeps each head it signed; proofs come from the stored subtrees (see `tree`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.provision_records.merkle import leaf_fields, opening
from broker.provision_records.models import ProvisionRecord, SignedTreeHead
from broker.provision_records.schemas import (
    ConsistencyProofOut,
    InclusionProofOut,
    LogEntryOut,
    LoggedRecord,
    SubjectOpening,
    TreeHeadOut,
)
from broker.provision_records.tree import TREE, stored_consistency_proof, stored_inclusion_proof, tree_size
from broker.symbols.service import person_for_symbol
from services.db import Database
from services.keys import ServiceKeys, b64
from services.log_tree import latest_signed_head
from services.merkle import TreeHead
from services.problems import BadRequest, Forbidden, NotFound


def _head_out(head: SignedTreeHead) -> TreeHeadOut:
    return TreeHeadOut(
        tree_size=head.tree_size,
        root_hash=b64(head.root_hash),
        timestamp=head.timestamp,
        signature=b64(head.signature),
        key_id=head.key_id,
    )


async def signed_tree_head(database: Database, keys: ServiceKeys) -> TreeHeadOut:
    return _head_out(await latest_signed_head(database, TREE, SignedTreeHead, TreeHead, keys))


async def _checked_size(session: AsyncSession, requested: int | None) -> int:
    current = await tree_size(session)
    if requested is None:
        return current
    if not 0 <= requested <= current:
        raise BadRequest("tree_size_invalid", f"The log holds {current} records; no tree of size {requested}.")
    return requested


async def _proof_for(session: AsyncSession, record: ProvisionRecord, requested_size: int | None) -> InclusionProofOut:
    size = await _checked_size(session, requested_size)
    if record.leaf_index >= size:
        raise BadRequest(
            "tree_size_invalid", f"Record {record.query_id} is leaf {record.leaf_index}, not in a tree of size {size}."
        )
    return InclusionProofOut(
        leaf_index=record.leaf_index,
        tree_size=size,
        leaf_hash=b64(bytes.fromhex(record.leaf_hash)),
        audit_path=[b64(node) for node in await stored_inclusion_proof(session, record.leaf_index, size)],
        record=LoggedRecord.model_validate(leaf_fields(record)),
    )


async def _record(session: AsyncSession, query_id: str) -> ProvisionRecord:
    record = await session.get(ProvisionRecord, query_id)
    if record is None:
        raise NotFound("unknown_record", f"No provision record {query_id}.")
    return record


async def record_inclusion(session: AsyncSession, query_id: str, requested_size: int | None) -> InclusionProofOut:
    """For operators: the proof, the logged fields and the opening of the subject commitment."""
    record = await _record(session, query_id)
    proof = await _proof_for(session, record, requested_size)
    proof.opening = SubjectOpening.model_validate(opening(record))
    return proof


async def personal_record_inclusion(
    session: AsyncSession, institution_code: str, symbol: str, query_id: str, requested_size: int | None
) -> InclusionProofOut:
    """For My Portal: the proof of one of the person's own records, with the public fields only."""
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
    proof = await stored_consistency_proof(session, first, second)
    return ConsistencyProofOut(first=first, second=second, proof=[b64(node) for node in proof])


async def log_entries(session: AsyncSession, start: int, end: int) -> list[LogEntryOut]:
    """Leaves [start, end) as an outside auditor may see them: public fields, no serial or symbol."""
    rows = await session.scalars(
        select(ProvisionRecord)
        .where(ProvisionRecord.leaf_index >= start, ProvisionRecord.leaf_index < end)
        .order_by(ProvisionRecord.leaf_index)
    )
    return [
        LogEntryOut(**leaf_fields(row), leaf_index=row.leaf_index, leaf_hash=b64(bytes.fromhex(row.leaf_hash)))
        for row in rows
    ]
