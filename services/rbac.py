"""Who is calling, and what they may do: signed service callers and department role grants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.problems import Forbidden


@dataclass(frozen=True)
class Caller:
    """A component of a registered institution whose request signature verified."""

    key_id: str
    institution_code: str
    institution_kind: str
    component: str


def require_caller(
    caller: Caller,
    *,
    components: Iterable[str],
    kinds: Iterable[str] | None = None,
    institution_code: str | None = None,
) -> None:
    """Refuse a verified caller whose component, institution kind or code may not do this."""
    allowed_components = set(components)
    if caller.component not in allowed_components:
        raise Forbidden(
            "caller_not_permitted",
            f"{caller.key_id} ({caller.component}) may not call this endpoint; "
            f"allowed: {', '.join(sorted(allowed_components))}.",
        )
    if kinds is not None and caller.institution_kind not in set(kinds):
        raise Forbidden("caller_not_permitted", f"institutions of kind {caller.institution_kind} may not call this.")
    if institution_code is not None and caller.institution_code != institution_code:
        raise Forbidden("caller_not_permitted", f"only institution {institution_code} may call this.")


@dataclass(frozen=True)
class RoleGrants:
    """Which data items each role may see under each procedure (least privilege, DOMAIN rule 6)."""

    grants: Mapping[str, Mapping[str, frozenset[str]]]

    @classmethod
    def from_yaml(cls, path: Path) -> RoleGrants:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            {
                role: {procedure: frozenset(items) for procedure, items in (procedures or {}).items()}
                for role, procedures in raw["roles"].items()
            }
        )

    def roles(self) -> frozenset[str]:
        return frozenset(self.grants)

    def ungranted_items(self, role: str, procedure: str, items: Iterable[str]) -> list[str]:
        """The requested items this role may not see under this procedure (empty when all granted)."""
        granted = self.grants.get(role, {}).get(procedure, frozenset())
        return sorted(set(items) - granted)
