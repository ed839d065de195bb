"""The institution registry: who is on the network, their keys and where to reach them.

It is also the network's key directory: every service verifies signatures against it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.registry.models import Component, Institution
from broker.registry.schemas import ComponentOut, InstitutionIn, InstitutionOut
from services.db import Database, utc_now
from services.problems import NotFound
from services.signing import RegisteredKey


async def register_institution(session: AsyncSession, entry: InstitutionIn) -> InstitutionOut:
    """Create or update an institution and its components (re-enrolment replaces their keys)."""
    now = utc_now()
    institution = await session.get(Institution, entry.code)
    if institution is None:
        institution = Institution(code=entry.code, name=entry.name, kind=entry.kind, registered_at=now)
        session.add(institution)
        await session.flush()  # the institution before its components
    else:
        institution.name, institution.kind = entry.name, entry.kind
    for item in entry.components:
        key_id = f"{entry.code}.{item.component}"
        component = await session.get(Component, key_id)
        if component is None:
            component = Component(key_id=key_id, institution_code=entry.code, component=item.component)
            session.add(component)
        component.base_url = item.base_url
        component.signing_public_key = item.signing_public_key
        component.encryption_public_key = item.encryption_public_key
        component.registered_at = now
    await session.flush()
    return await get_institution(session, entry.code)


async def get_institution(session: AsyncSession, code: str) -> InstitutionOut:
    institution = await session.get(Institution, code)
    if institution is None:
        raise NotFound("unknown_institution", f"No institution {code} is registered.")
    components = (
        await session.scalars(select(Component).where(Component.institution_code == code).order_by(Component.key_id))
    ).all()
    return InstitutionOut(
        code=institution.code,
        name=institution.name,
        kind=institution.kind,
        components=[ComponentOut.model_validate(c, from_attributes=True) for c in components],
    )


async def list_institutions(session: AsyncSession) -> list[InstitutionOut]:
    codes = (await session.scalars(select(Institution.code).order_by(Institution.code))).all()
    return [await get_institution(session, code) for code in codes]


async def find_key(session: AsyncSession, key_id: str) -> RegisteredKey | None:
    row = (
        await session.execute(
            select(Component, Institution)
            .join(Institution, Institution.code == Component.institution_code)
            .where(Component.key_id == key_id)
        )
    ).first()
    if row is None:
        return None
    component, institution = row
    return RegisteredKey(
        key_id=component.key_id,
        institution_code=institution.code,
        institution_name=institution.name,
        institution_kind=institution.kind,
        component=component.component,
        base_url=component.base_url,
        signing_public_key=component.signing_public_key,
        encryption_public_key=component.encryption_public_key,
    )


class RegistryDirectory:
    """The broker verifies callers straight from its own registry."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def resolve(self, key_id: str) -> RegisteredKey | None:
        async with self.database.sessions() as session:
            return await find_key(session, key_id)
