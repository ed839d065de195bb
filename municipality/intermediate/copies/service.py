"""Registering copies (副本登録) and reading the latest ones for an answer.

A batch is checked whole before anything is written and written in one transaction, so a bad
row refuses the batch and leaves the previous copies as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.copies.models import Copy
from municipality.intermediate.copies.schemas import CopyIn
from services.db import utc_now
from services.problems import BadRequest

CATALOGUE_FILE = Path(__file__).with_name("items.yaml")


def load_item_catalogue(path: Path = CATALOGUE_FILE) -> dict[str, dict[str, str]]:
    catalogue: dict[str, dict[str, str]] = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    return catalogue


async def register_copies(session: AsyncSession, catalogue: dict[str, Any], copies: Sequence[CopyIn]) -> int:
    errors = [
        {"index": index, "reason": f"unknown item code {copy.item_code}"}
        for index, copy in enumerate(copies)
        if copy.item_code not in catalogue
    ]
    if errors:
        raise BadRequest(
            "copy_batch_rejected", f"{len(errors)} rows are invalid; nothing was registered.", errors=errors[:100]
        )
    now = utc_now()
    existing = {
        (c.address_number, c.item_code, c.period): c
        for c in (
            await session.scalars(select(Copy).where(Copy.address_number.in_({copy.address_number for copy in copies})))
        ).all()
    }
    for copy in copies:
        row = existing.get((copy.address_number, copy.item_code, copy.period))
        if row is None:
            row = Copy(address_number=copy.address_number, item_code=copy.item_code, period=copy.period)
            session.add(row)
            existing[(copy.address_number, copy.item_code, copy.period)] = row
        row.value, row.as_of, row.registered_at = copy.value, copy.as_of, now
    await session.flush()
    return len(copies)


async def latest_copies(session: AsyncSession, address_number: str, item_codes: Iterable[str]) -> list[Copy]:
    """The most recent period of each requested item the city holds for this person."""
    rows = (
        await session.scalars(
            select(Copy)
            .where(Copy.address_number == address_number, Copy.item_code.in_(list(item_codes)))
            .order_by(Copy.item_code, Copy.period.desc())
        )
    ).all()
    latest: dict[str, Copy] = {}
    for row in rows:
        latest.setdefault(row.item_code, row)
    return list(latest.values())
