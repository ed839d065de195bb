"""Administrator accounts and their bearer tokens.

Tokens are 256-bit random strings, so a plain SHA-256 of each is enough to find and check it
(no password stretching is needed for values nobody chose).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.admins.models import Administrator
from broker.admins.schemas import AdministratorIn, AdministratorOut, IssuedAdministrator
from services.db import utc_now
from services.problems import Conflict, Unauthenticated


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_administrator(session: AsyncSession, entry: AdministratorIn) -> IssuedAdministrator:
    if await session.get(Administrator, entry.admin_id) is not None:
        raise Conflict("administrator_exists", f"Administrator {entry.admin_id} already exists.")
    token = secrets.token_hex(32)  # hex: never starts with "-", so it passes as a CLI argument
    admin = Administrator(admin_id=entry.admin_id, name=entry.name, token_sha256=_digest(token), created_at=utc_now())
    session.add(admin)
    await session.flush()
    return IssuedAdministrator(admin_id=admin.admin_id, name=admin.name, created_at=admin.created_at, token=token)


async def list_administrators(session: AsyncSession) -> list[AdministratorOut]:
    rows = await session.scalars(select(Administrator).order_by(Administrator.admin_id))
    return [AdministratorOut.model_validate(row, from_attributes=True) for row in rows]


async def administrator_for_token(session: AsyncSession, token: str) -> Administrator:
    admin = await session.scalar(select(Administrator).where(Administrator.token_sha256 == _digest(token)))
    if admin is None:
        raise Unauthenticated("administrator_token_invalid", "No broker administrator has this token.")
    return admin
