"""Who is calling, and what they may do: signed service callers, and department roles read from
role data (what a department may query, what it may view, whether it administers staff)."""

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
class Role:
    """What one department's staff may do (DOMAIN rule 6), read from the role data.

    `query`: procedure → the items its staff may ask other institutions for under it (SKI);
    `view`: the items of the city's own copies its staff may read; `administers_staff`: whether
    its staff may create accounts and reset passwords (the information-policy department).
    """

    query: Mapping[str, frozenset[str]]
    view: frozenset[str] = frozenset()
    administers_staff: bool = False


NO_ROLE = Role(query={})
_ROLE_KEYS = {"query", "view", "administers_staff"}


@dataclass(frozen=True)
class RoleGrants:
    """Every department's role, by department name (least privilege: what is not granted is refused)."""

    departments: Mapping[str, Role]

    @classmethod
    def from_yaml(cls, path: Path) -> RoleGrants:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls({department: _role(department, entry or {}) for department, entry in raw["roles"].items()})

    def roles(self) -> frozenset[str]:
        return frozenset(self.departments)

    def role(self, department: str) -> Role:
        """The department's role; a department without one may do nothing."""
        return self.departments.get(department, NO_ROLE)

    def ungranted_items(self, role: str, procedure: str, items: Iterable[str]) -> list[str]:
        """The requested items this role may not ask for under this procedure (empty when all granted)."""
        granted = self.role(role).query.get(procedure, frozenset())
        return sorted(set(items) - granted)

    def unviewable_items(self, role: str, items: Iterable[str]) -> list[str]:
        """The requested items of the city's own copies this role may not view (empty when all granted)."""
        return sorted(set(items) - self.role(role).view)

    def administers_staff(self, role: str) -> bool:
        return self.role(role).administers_staff


def _role(department: str, entry: Mapping[str, object]) -> Role:
    """One department's entry; unknown keys are refused so that a typo cannot grant or hide a right."""
    unknown = set(entry) - _ROLE_KEYS
    if unknown:
        raise ValueError(f"role {department}: unknown keys {', '.join(sorted(unknown))}")
    query = entry.get("query") or {}
    view = entry.get("view") or []
    administers = entry.get("administers_staff", False)
    if not isinstance(query, Mapping) or not isinstance(view, list) or not isinstance(administers, bool):
        raise ValueError(f"role {department}: query is a mapping, view a list, administers_staff true or false")
    return Role(
        query={str(procedure): frozenset(items or ()) for procedure, items in query.items()},
        view=frozenset(str(item) for item in view),
        administers_staff=administers,
    )
