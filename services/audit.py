"""Tamper-evident audit trails: each entry's hash covers its fields and the previous hash, so
editing or deleting any past entry breaks every hash after it (DOMAIN rule 5)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

GENESIS = "0" * 64


def chain_hash(previous_hash: str, fields: Mapping[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()


def first_broken_link(entries: Iterable[tuple[str, str, Mapping[str, Any]]]) -> int | None:
    """Given (previous_hash, entry_hash, fields) in order, the index of the first bad entry."""
    expected_previous = GENESIS
    for index, (previous_hash, entry_hash, fields) in enumerate(entries):
        if previous_hash != expected_previous or chain_hash(previous_hash, fields) != entry_hash:
            return index
        expected_previous = entry_hash
    return None
