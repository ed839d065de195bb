"""Signing the access log's tree head and anchoring it at the broker (broker `POST /log-anchors`).

A head the server signed and kept proves nothing against whoever controls the server, its
database and its key: they could rewrite the log and sign again. A head the broker holds, they
cannot take back, and the broker refuses one that shrinks the log, so every anchored prefix stays
checkable (`python -m devnet.audit verify-access-log`). The server anchors every
`anchor_interval_seconds` (a task in its lifespan) and whenever the operator asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import FastAPI

from municipality.intermediate.access_log.models import SignedAccessLogHead
from municipality.intermediate.access_log.service import TREE
from municipality.intermediate.config import IntermediateSettings
from services.access_log_audit import ACCESS_LOG, AccessLogHead
from services.app import Runtime, settings_of
from services.db import utc_now
from services.keys import b64
from services.log_tree import latest_signed_head

log = logging.getLogger(__name__)


def head_out(head: SignedAccessLogHead) -> dict[str, Any]:
    return {
        "tree_size": head.tree_size,
        "root_hash": b64(head.root_hash),
        "timestamp": head.timestamp,
        "signature": b64(head.signature),
        "key_id": head.key_id,
        "anchored_at": head.anchored_at,
    }


async def signed_tree_head(runtime: Runtime) -> SignedAccessLogHead:
    return await latest_signed_head(runtime.database, TREE, SignedAccessLogHead, AccessLogHead, runtime.keys)


async def anchor_access_log(runtime: Runtime) -> dict[str, Any]:
    """Sign the current head and send it to the broker, unless the broker holds it already;
    the head as stored, with when the broker accepted it. An UpstreamError if it refused."""
    head = await signed_tree_head(runtime)
    if head.anchored_at is not None:
        return head_out(head)
    body = {**head_out(head), "log": ACCESS_LOG}
    del body["anchored_at"]
    await runtime.client.call("POST", f"{runtime.settings.broker_url}/log-anchors", body, upstream="broker")
    async with runtime.database.sessions() as session:
        stored = await session.get(SignedAccessLogHead, head.tree_size)
        if stored is not None and stored.anchored_at is None:
            stored.anchored_at = utc_now()
            await session.commit()
        head = stored or head
    return head_out(head)


async def _anchor_periodically(runtime: Runtime, interval_seconds: float) -> None:
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await anchor_access_log(runtime)
        except Exception:  # the next round tries again; the operator sees the unanchored head
            log.exception("anchoring the staff access log at the broker failed")


async def start_anchoring(app: FastAPI, runtime: Runtime) -> None:
    """Lifespan hook: anchor every `anchor_interval_seconds`, first after one interval (the broker
    need not be up when this server starts)."""
    interval = settings_of(runtime, IntermediateSettings).anchor_interval_seconds
    app.state.access_log_anchoring = asyncio.create_task(_anchor_periodically(runtime, interval))


async def stop_anchoring(app: FastAPI, _runtime: Runtime) -> None:
    task: asyncio.Task[None] = app.state.access_log_anchoring
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
