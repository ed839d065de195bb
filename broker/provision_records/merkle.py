"""What of a provision record the log commits to: its leaf in the RFC 9162 tree.

The leaf covers the record's public fields and a commitment to the person (services.log_audit),
never any content, serial or symbol: My Portal and outside auditors recompute it from what they
are given; only the operator is given the opening of the commitment.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from broker.provision_records.models import ProvisionRecord
from services.log_audit import PUBLIC_FIELDS, subject_commitment


def leaf_fields(record: ProvisionRecord) -> dict[str, Any]:
    """The record's public fields as the leaf holds them, with the commitment to its subject."""
    fields = {name: getattr(record, name) for name in PUBLIC_FIELDS if name != "subject_commitment"}
    fields["requested_at"] = record.requested_at.astimezone(UTC).isoformat()
    fields["item_codes"] = list(record.item_codes)
    fields["subject_commitment"] = subject_commitment(record.subject_salt, record.person_serial, record.provider_symbol)
    return fields


def opening(record: ProvisionRecord) -> dict[str, Any]:
    """What opens the record's subject commitment: for the operator's audit only."""
    return {
        "salt": record.subject_salt,
        "person_serial": record.person_serial,
        "provider_symbol": record.provider_symbol,
    }
