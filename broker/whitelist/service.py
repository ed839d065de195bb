"""The legal whitelist (番号法 別表第二) as data: every query is checked against it (rule 4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml


@dataclass(frozen=True)
class WhitelistRow:
    row_id: str
    procedure: str
    requesters: frozenset[str]  # institution kinds or codes
    providers: frozenset[str]
    items: frozenset[str]
    legal_basis: str
    valid_from: date
    valid_to: date | None

    def covers(
        self, requester: tuple[str, str], procedure: str, provider: tuple[str, str], items: frozenset[str], on: date
    ) -> bool:
        return (
            self.procedure == procedure
            and not self.requesters.isdisjoint(requester)
            and not self.providers.isdisjoint(provider)
            and items <= self.items
            and self.valid_from <= on
            and (self.valid_to is None or on <= self.valid_to)
        )


@dataclass(frozen=True)
class Whitelist:
    version: str
    items: Mapping[str, str]
    procedures: Mapping[str, str]
    rows: tuple[WhitelistRow, ...]

    @classmethod
    def load(cls, path: Path) -> Whitelist:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        rows = tuple(
            WhitelistRow(
                row_id=row["id"],
                procedure=row["procedure"],
                requesters=frozenset(str(r) for r in row["requesters"]),
                providers=frozenset(str(p) for p in row["providers"]),
                items=frozenset(row["items"]),
                legal_basis=row["legal_basis"],
                valid_from=row["valid_from"],
                valid_to=row.get("valid_to"),
            )
            for row in raw["rows"]
        )
        whitelist = cls(version=str(raw["version"]), items=raw["items"], procedures=raw["procedures"], rows=rows)
        for row in rows:
            unknown = (row.items - set(whitelist.items)) | ({row.procedure} - set(whitelist.procedures))
            if unknown:
                raise ValueError(f"whitelist row {row.row_id} names unknown codes: {sorted(unknown)}")
        return whitelist

    def row_for(
        self,
        *,
        requester_code: str,
        requester_kind: str,
        procedure: str,
        provider_code: str,
        provider_kind: str,
        items: Iterable[str],
        on: date,
    ) -> WhitelistRow | None:
        """The row in force on `on` that allows this whole query, or None when none does."""
        wanted = frozenset(items)
        for row in self.rows:
            if row.covers((requester_code, requester_kind), procedure, (provider_code, provider_kind), wanted, on):
                return row
        return None
