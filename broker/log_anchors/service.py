"""Keeping the tree heads institutions anchor: only heads signed by the caller's own registered
key, and never one that would shrink the log (an institution that deleted entries after it
anchored them cannot anchor again without showing it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.log_anchors.models import LogAnchor
from broker.log_anchors.schemas import AnchorIn, AnchorOut
from services.access_log_audit import head_signed
from services.db import Database, append_in_order, utc_now
from services.keys import b64, unb64
from services.problems import BadRequest, Conflict, Forbidden
from services.rbac import Caller
from services.signing import KeyDirectory


def anchor_out(anchor: LogAnchor) -> AnchorOut:
    return AnchorOut(
        institution_code=anchor.institution_code,
        log=anchor.log_name,
        tree_size=anchor.tree_size,
        root_hash=b64(anchor.root_hash),
        timestamp=anchor.timestamp,
        signature=b64(anchor.signature),
        key_id=anchor.key_id,
        received_at=anchor.received_at,
    )


async def _check_signed_by_caller(directory: KeyDirectory, caller: Caller, head: AnchorIn) -> None:
    registered = await directory.resolve(head.key_id)
    if registered is None or (registered.institution_code, registered.component) != (
        caller.institution_code,
        caller.component,
    ):
        raise Forbidden("anchor_key_not_callers", f"Key {head.key_id} is not a key of {caller.key_id}'s component.")
    if not head_signed(head.model_dump(), registered.signing_public_key):
        raise BadRequest("anchor_signature_invalid", f"The tree head's signature does not verify with {head.key_id}.")


async def anchor_tree_head(database: Database, directory: KeyDirectory, caller: Caller, head: AnchorIn) -> AnchorOut:
    """Keep `head` as the latest anchor of the caller's log. Sending the latest anchor again is
    answered with it; a smaller size, or the same size with another root, is refused."""
    await _check_signed_by_caller(directory, caller, head)
    kept: list[LogAnchor] = []

    async def add_next(session: AsyncSession) -> None:
        kept.clear()
        latest = await session.scalar(
            select(LogAnchor)
            .where(LogAnchor.institution_code == caller.institution_code, LogAnchor.log_name == head.log)
            .order_by(LogAnchor.tree_size.desc())
            .limit(1)
        )
        if latest is not None and head.tree_size < latest.tree_size:
            raise Conflict(
                "anchor_size_shrinks",
                f"The {head.log} log was anchored at size {latest.tree_size}; a head of size {head.tree_size} "
                "would shrink it.",
            )
        if latest is not None and head.tree_size == latest.tree_size:
            if latest.root_hash != unb64(head.root_hash):
                raise Conflict(
                    "anchor_root_conflict",
                    f"The {head.log} log was anchored at size {head.tree_size} with another root.",
                )
            kept.append(latest)
            return
        anchor = LogAnchor(
            institution_code=caller.institution_code,
            log_name=head.log,
            tree_size=head.tree_size,
            root_hash=unb64(head.root_hash),
            timestamp=head.timestamp,
            signature=unb64(head.signature),
            key_id=head.key_id,
            received_at=utc_now(),
        )
        session.add(anchor)
        kept.append(anchor)

    await append_in_order(database, add_next, log=f"log anchors {caller.institution_code} {head.log}")
    return anchor_out(kept[0])


async def list_anchors(session: AsyncSession, institution_code: str, log_name: str) -> list[AnchorOut]:
    """The institution's anchors of one log, smallest first."""
    rows = await session.scalars(
        select(LogAnchor)
        .where(LogAnchor.institution_code == institution_code, LogAnchor.log_name == log_name)
        .order_by(LogAnchor.tree_size)
    )
    return [anchor_out(row) for row in rows]
