"""A resident's own provision records (情報提供等記録), fetched from the broker by the portal's
symbol for them; the broker resolves the person and returns names, never symbols. For any one of
them the portal also proves, with only the broker's public key, that it stands unaltered in the
broker's signed provision log."""

from __future__ import annotations

from typing import Any

from services.app import Runtime
from services.log_audit import AuditFailure, verify_record_inclusion, verify_tree_head


async def my_provision_records(runtime: Runtime, symbol: str) -> list[dict[str, Any]]:
    answer = await runtime.client.call(
        "POST", f"{runtime.settings.broker_url}/provision-records/search", {"symbol": symbol}, upstream="broker"
    )
    records: list[dict[str, Any]] = answer["records"]
    return records


async def _broker_public_key(runtime: Runtime, key_id: str) -> str:
    """The head's signing key as the registry knows it; only the broker's own key may sign heads."""
    registered = await runtime.directory.resolve(key_id)
    if registered is None or registered.institution_kind != "broker":
        raise AuditFailure(f"{key_id} is not a key of the broker")
    return registered.signing_public_key


async def my_record_proof(runtime: Runtime, symbol: str, query_id: str) -> dict[str, Any]:
    """The broker's latest signed head and its proof for one of the resident's records, checked
    here: `verified` says whether the record (as the log holds it) is in the signed tree."""
    broker = runtime.settings.broker_url
    head = await runtime.client.call("GET", f"{broker}/provision-log/tree-head", upstream="broker")
    proof = await runtime.client.call(
        "POST",
        f"{broker}/provision-log/inclusion",
        {"query_id": query_id, "symbol": symbol, "tree_size": head["tree_size"]},
        upstream="broker",
    )
    problem: str | None = None
    try:
        verify_record_inclusion(verify_tree_head(head, await _broker_public_key(runtime, head["key_id"])), proof)
    except AuditFailure as failure:
        problem = str(failure)
    return {
        "verified": problem is None,
        "problem": problem,
        "record": proof["record"],
        "tree_head": head,
        "inclusion": {name: proof[name] for name in ("leaf_index", "tree_size", "leaf_hash", "audit_path")},
    }
