"""The institution registry: who is on the network, their keys and where to reach them.

It is also the network's key directory: every service verifies signatures against it. A
component rotates its keys by announcing the next pair ahead of time; both verify during an overlap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from broker.registry.models import Component, ComponentKey, Institution
from broker.registry.schemas import ComponentOut, InstitutionIn, InstitutionOut, KeyAnnouncement, KeyGenerationOut
from services.db import Database, utc_now
from services.problems import Conflict, NotFound
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


@dataclass(frozen=True)
class KeyGeneration:
    """One of a component's signing and encryption key pairs, and when it is in force."""

    key_id: str
    generation: int
    signing_public_key: str
    encryption_public_key: str
    activates_at: datetime
    retires_at: datetime | None  # None while no newer generation is announced

    def status(self, now: datetime) -> Literal["announced", "active", "retired"]:
        if now < self.activates_at:
            return "announced"
        if self.retires_at is not None and now >= self.retires_at:
            return "retired"
        return "active"

    def out(self, now: datetime) -> KeyGenerationOut:
        return KeyGenerationOut(**asdict(self), status=self.status(now))


async def key_generations(session: AsyncSession, component: Component, overlap: timedelta) -> list[KeyGeneration]:
    """A component's keys, oldest first: its enrolled key, then each one announced since."""
    later = (
        await session.scalars(
            select(ComponentKey)
            .where(ComponentKey.component_key_id == component.key_id)
            .order_by(ComponentKey.generation)
        )
    ).all()
    starts = [
        (component.key_id, 1, component.signing_public_key, component.encryption_public_key, component.registered_at)
    ]
    starts += [(k.key_id, k.generation, k.signing_public_key, k.encryption_public_key, k.activates_at) for k in later]
    generations = []
    for key_id, generation, signing, encryption, activates_at in starts:
        successors = [start[4] for start in starts if start[1] > generation]
        generations.append(
            KeyGeneration(
                key_id=key_id,
                generation=generation,
                signing_public_key=signing,
                encryption_public_key=encryption,
                activates_at=activates_at,
                retires_at=min(successors) + overlap if successors else None,
            )
        )
    return generations


async def _component(session: AsyncSession, code: str, component: str) -> Component:
    if await session.get(Institution, code) is None:
        raise NotFound("unknown_institution", f"No institution {code} is registered.")
    found = await session.get(Component, f"{code}.{component}")
    if found is None:
        raise NotFound("unknown_component", f"Institution {code} has no {component} component.")
    return found


async def announce_key(
    session: AsyncSession, code: str, component: str, announcement: KeyAnnouncement, now: datetime, overlap: timedelta
) -> KeyGenerationOut:
    """Register a component's next key (鍵の更新): it verifies from `activates_at`, and the older
    keys stop verifying once it has been active for `overlap`."""
    enrolled = await _component(session, code, component)
    generations = await key_generations(session, enrolled, overlap)
    if any(g.signing_public_key == announcement.signing_public_key for g in generations):
        raise Conflict("key_already_registered", f"This signing key is already registered for {enrolled.key_id}.")
    generation = generations[-1].generation + 1
    session.add(
        ComponentKey(
            key_id=f"{enrolled.key_id}.v{generation}",
            component_key_id=enrolled.key_id,
            generation=generation,
            signing_public_key=announcement.signing_public_key,
            encryption_public_key=announcement.encryption_public_key,
            activates_at=announcement.activates_at or now,
            announced_at=now,
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:  # another operator announced the same generation at once
        raise Conflict("key_announcement_conflict", f"Another key for {enrolled.key_id} was just announced.") from exc
    return (await key_generations(session, enrolled, overlap))[-1].out(now)


async def list_keys(
    session: AsyncSession, code: str, component: str, now: datetime, overlap: timedelta
) -> list[KeyGenerationOut]:
    enrolled = await _component(session, code, component)
    return [generation.out(now) for generation in await key_generations(session, enrolled, overlap)]


async def find_key(session: AsyncSession, key_id: str, now: datetime, overlap: timedelta) -> RegisteredKey | None:
    """The registered key with this id if it is in force at `now`, else None (unknown, not yet
    active, or retired)."""
    component = await session.get(Component, key_id)
    if component is None:
        later = await session.get(ComponentKey, key_id)
        if later is None:
            return None
        component = await session.get(Component, later.component_key_id)
        if component is None:
            return None
    institution = await session.get(Institution, component.institution_code)
    if institution is None:
        return None
    generations = await key_generations(session, component, overlap)
    [key] = [g for g in generations if g.key_id == key_id]
    if key.status(now) != "active":
        return None
    return RegisteredKey(
        key_id=key.key_id,
        institution_code=institution.code,
        institution_name=institution.name,
        institution_kind=institution.kind,
        component=component.component,
        base_url=component.base_url,
        signing_public_key=key.signing_public_key,
        encryption_public_key=key.encryption_public_key,
    )


class RegistryDirectory:
    """The broker verifies callers straight from its own registry.

    `now` is the clock keys are judged by (tests set it; a replica uses the system clock).
    """

    def __init__(self, database: Database, overlap_seconds: int = 86400, now: Callable[[], datetime] = utc_now) -> None:
        self.database = database
        self.overlap = timedelta(seconds=overlap_seconds)
        self.now = now

    async def resolve(self, key_id: str) -> RegisteredKey | None:
        async with self.database.sessions() as session:
            return await find_key(session, key_id, self.now(), self.overlap)
