"""Number change (番号変更): a new number for the same person when theirs leaked or was misused,
or at their request. It lives apart from issuance because it also reaches the card PKI."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from jlis.cards.service import revoke_certificates_of_person
from jlis.numbers.models import IndividualNumber, Person
from jlis.numbers.service import NumberKey, assign_unique_numbers, log_operation, require_owner
from services.db import Database, utc_now
from services.problems import Forbidden, NotFound


async def change_individual_number(
    session: AsyncSession,
    database: Database,
    key: NumberKey,
    caller: str,
    municipality_code: str,
    individual_number: str,
    reason: str,
) -> tuple[str, datetime, int]:
    """番号変更: a new number for the same person; the old one is kept, revoked, with the reason,
    and the certificates on their card (which name the old identity) are revoked."""
    old = await session.get(IndividualNumber, individual_number)
    if old is None:
        raise NotFound("unknown_individual_number", "No person holds this individual number.")
    if old.status != "valid":
        raise Forbidden("number_revoked", "This individual number has already been changed.")
    person = await session.get(Person, old.person_serial)
    if person is None:
        raise RuntimeError("a number without its person")
    await require_owner(database, caller, "change", municipality_code, person)
    now = utc_now()
    generation = person.number_generation + 1
    candidate = (await assign_unique_numbers(session, key, {person.resident_code: generation}))[person.resident_code]
    await session.execute(
        update(IndividualNumber)
        .where(IndividualNumber.number == old.number)
        .values(status="revoked", revoked_at=now, revocation_reason=reason)
    )
    person.number_generation = generation
    session.add(IndividualNumber(number=candidate, person_serial=person.serial, status="valid", issued_at=now))
    certificates = await revoke_certificates_of_person(session, person.serial, "number_changed", at=now)
    await log_operation(session, caller, "change", f"changed:{reason}", person.serial)
    await session.flush()
    return candidate, now, certificates
