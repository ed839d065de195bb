"""The legal whitelist (番号法 別表第二) as data: every query is checked against it (rule 4).

Every version loaded (the shipped file, operators' uploads) is kept; the latest loaded is in force.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from broker.whitelist.models import WhitelistVersion
from broker.whitelist.schemas import WhitelistVersionOut
from services.db import Database, utc_now
from services.problems import BadRequest, Conflict
from services.whitelist import WhitelistRow

SHIPPED = "shipped file"  # loaded_by of a version stored from the file at startup
VERSION_MAX_LENGTH = 32  # provision records store the version in 32 characters


class WhitelistInvalid(ValueError):
    """A whitelist document that cannot be put in force; the message says why."""


@dataclass(frozen=True)
class Whitelist:
    version: str
    items: Mapping[str, str]
    procedures: Mapping[str, str]
    rows: tuple[WhitelistRow, ...]

    @classmethod
    def load(cls, path: Path) -> Whitelist:
        return cls.parse(path.read_text(encoding="utf-8"))

    @classmethod
    def parse(cls, text: str) -> Whitelist:
        """A whitelist from its YAML text (the shipped file or an operator's upload).

        Raises `WhitelistInvalid` (a ValueError) naming what is wrong; nothing is half-loaded.
        """
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise WhitelistInvalid(f"not YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise WhitelistInvalid("the document must be a mapping with version, items, procedures and rows")
        try:
            whitelist = cls._from_mapping(raw)
        except WhitelistInvalid:
            raise
        except (KeyError, TypeError, AttributeError) as exc:
            raise WhitelistInvalid(f"malformed whitelist: {type(exc).__name__} {exc}") from exc
        return whitelist

    @classmethod
    def _from_mapping(cls, raw: Mapping[str, Any]) -> Whitelist:
        version = str(raw["version"]).strip()
        if not version or len(version) > VERSION_MAX_LENGTH:
            raise WhitelistInvalid(f"version must be 1 to {VERSION_MAX_LENGTH} characters")
        items, procedures = raw["items"], raw["procedures"]
        if not isinstance(items, dict) or not isinstance(procedures, dict) or not isinstance(raw["rows"], list):
            raise WhitelistInvalid("items and procedures must be mappings and rows a list")
        rows = tuple(
            WhitelistRow(
                row_id=str(row["id"]),
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
        whitelist = cls(version=version, items=items, procedures=procedures, rows=rows)
        seen: set[str] = set()
        for row in rows:
            unknown = (row.items - set(whitelist.items)) | ({row.procedure} - set(whitelist.procedures))
            if unknown:
                raise WhitelistInvalid(f"whitelist row {row.row_id} names unknown codes: {sorted(unknown)}")
            if row.row_id in seen:
                raise WhitelistInvalid(f"whitelist row id {row.row_id} appears twice")
            seen.add(row.row_id)
            if not isinstance(row.valid_from, date) or not isinstance(row.valid_to, date | None):
                raise WhitelistInvalid(f"whitelist row {row.row_id} needs dates (YYYY-MM-DD) for valid_from/valid_to")
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


class WhitelistVersions:
    """The whitelist in force, read from the database on each use and parsed once per version.

    Each query costs one indexed read of the latest version's name, so a version loaded through
    any replica is in force on every replica for the next query, with no cache to expire.
    """

    def __init__(self) -> None:
        self._parsed: dict[str, Whitelist] = {}

    def remember(self, whitelist: Whitelist) -> Whitelist:
        self._parsed.setdefault(whitelist.version, whitelist)
        return self._parsed[whitelist.version]

    async def in_force(self, session: AsyncSession) -> Whitelist | None:
        latest = (
            await session.execute(select(WhitelistVersion.version).order_by(WhitelistVersion.sequence.desc()).limit(1))
        ).scalar_one_or_none()
        if latest is None:
            return None
        if latest not in self._parsed:
            document = await session.scalar(select(WhitelistVersion.document).where(WhitelistVersion.version == latest))
            self.remember(Whitelist.parse(document or ""))
        return self._parsed[latest]


async def store_whitelist_version(session: AsyncSession, document: str, loaded_by: str) -> WhitelistVersionOut:
    """Validate a whitelist document and put it in force (it becomes the latest loaded version)."""
    try:
        whitelist = Whitelist.parse(document)
    except WhitelistInvalid as exc:
        raise BadRequest("whitelist_invalid", f"The whitelist cannot be loaded: {exc}") from exc
    if await session.scalar(select(WhitelistVersion.version).where(WhitelistVersion.version == whitelist.version)):
        raise Conflict("whitelist_version_exists", f"Whitelist version {whitelist.version} is already loaded.")
    row = WhitelistVersion(version=whitelist.version, loaded_at=utc_now(), loaded_by=loaded_by, document=document)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # another replica loaded the same version a moment ago
        raise Conflict("whitelist_version_exists", f"Whitelist version {whitelist.version} is already loaded.") from exc
    return WhitelistVersionOut(
        version=row.version, loaded_at=row.loaded_at, loaded_by=row.loaded_by, in_force=True, rows=len(whitelist.rows)
    )


async def store_shipped_whitelist(database: Database, document: str) -> Whitelist:
    """At startup: record the shipped file as a version unless it is already stored.

    An operator's later upload stays in force across restarts; a new shipped version (a new
    release) is stored and so comes into force.
    """
    shipped = Whitelist.parse(document)
    async with database.sessions() as session:
        if await session.scalar(select(WhitelistVersion.version).where(WhitelistVersion.version == shipped.version)):
            return shipped
        session.add(
            WhitelistVersion(version=shipped.version, loaded_at=utc_now(), loaded_by=SHIPPED, document=document)
        )
        try:
            await session.commit()
        except IntegrityError:  # another replica starting at the same time stored it
            await session.rollback()
    return shipped


async def list_whitelist_versions(session: AsyncSession) -> list[WhitelistVersionOut]:
    rows = (await session.scalars(select(WhitelistVersion).order_by(WhitelistVersion.sequence.desc()))).all()
    return [
        WhitelistVersionOut(
            version=row.version,
            loaded_at=row.loaded_at,
            loaded_by=row.loaded_by,
            in_force=index == 0,
            rows=len(Whitelist.parse(row.document).rows),
        )
        for index, row in enumerate(rows)
    ]
