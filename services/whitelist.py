"""A row of the legal whitelist (情報提供ネットワークシステムの照会可能範囲): who may ask whom for
which items under which procedure, and when. In the kernel because the broker checks every query
against its rows and publishes them (`GET /whitelist`), and My Portal reads the published rows to
know what it may ask a city for on a resident's behalf (自己情報提供), so both read a row alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


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
        """Whether the row lets `requester` (code, kind) ask `provider` (code, kind) for `items`
        under `procedure` on the day `on`."""
        return (
            self.procedure == procedure
            and not self.requesters.isdisjoint(requester)
            and not self.providers.isdisjoint(provider)
            and items <= self.items
            and self.valid_from <= on
            and (self.valid_to is None or on <= self.valid_to)
        )

    def published(self) -> dict[str, Any]:
        """The row as `GET /whitelist` serves it."""
        return {
            "id": self.row_id,
            "procedure": self.procedure,
            "requesters": sorted(self.requesters),
            "providers": sorted(self.providers),
            "items": sorted(self.items),
            "legal_basis": self.legal_basis,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
        }

    @classmethod
    def from_published(cls, row: Mapping[str, Any]) -> WhitelistRow:
        """A row as `GET /whitelist` served it (raises KeyError, TypeError or ValueError if not)."""
        return cls(
            row_id=str(row["id"]),
            procedure=str(row["procedure"]),
            requesters=frozenset(str(r) for r in row["requesters"]),
            providers=frozenset(str(p) for p in row["providers"]),
            items=frozenset(str(i) for i in row["items"]),
            legal_basis=str(row["legal_basis"]),
            valid_from=date.fromisoformat(row["valid_from"]),
            valid_to=date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
        )
