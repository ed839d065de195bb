"""What of a provision record the log commits to: its leaf in the RFC 9162 tree (services.merkle).

The leaf is the canonical JSON of the record's fields, never any content; an auditor given the
fields recomputes the leaf hash and checks it against the one proven to be in a signed tree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.merkle import canonical_json, leaf_hash

LEAF_FIELDS = (
    "query_id",
    "requested_at",
    "requester_code",
    "provider_code",
    "procedure_code",
    "item_codes",
    "provider_symbol",
    "person_serial",
    "whitelist_version",
    "whitelist_row",
    "outcome",
    "outcome_code",
    "latency_ms",
)


def leaf_fields(record: Any) -> dict[str, Any]:
    """The logged fields of a record (a ProvisionRecord or anything with those attributes)."""
    fields = {name: getattr(record, name) for name in LEAF_FIELDS}
    requested_at: datetime = fields["requested_at"]
    fields["requested_at"] = requested_at.astimezone(UTC).isoformat()
    fields["item_codes"] = list(fields["item_codes"])
    return fields


def provision_leaf_hash(fields: dict[str, Any]) -> bytes:
    return leaf_hash(canonical_json(fields))
