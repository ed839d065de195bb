"""Issuing and changing individual numbers (個人番号の生成・変更).

The first eleven digits are the resident code enciphered with FF3-1 (NIST SP 800-38G rev.1,
radix 10) under J-LIS's secret key: a keyed permutation of 11-digit strings, so two codes never
share a number, nobody without the key can compute a number from a code, and consecutive codes
give unrelated numbers. The twelfth digit is the official check digit. A changed number comes
from the same key under the next generation's tweak; the person's serial never changes, so their
symbols and provision records stay theirs.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ff3 import FF3Cipher
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jlis.numbers.check_digit import check_digit
from jlis.numbers.models import IndividualNumber, NumberOperation, Person, Residence
from jlis.numbers.schemas import IssuedNumber, RejectedItem, ResidenceTransfer
from services.db import Database, utc_now
from services.problems import BadRequest, Conflict, Forbidden, NotFound

TWEAK = "4a4c49532d4e4f"  # "JLIS-NO": generation 0; the key is the secret
CHUNK = 5000


class NumberCipher:
    """J-LIS's keyed function from resident code (and generation) to an individual number."""

    def __init__(self, key: bytes) -> None:
        self._key_hex = key.hex()
        self._ciphers: dict[int, FF3Cipher] = {0: FF3Cipher(self._key_hex, TWEAK, radix=10)}

    def individual_number_for(self, resident_code: str, generation: int = 0) -> str:
        cipher = self._ciphers.get(generation)
        if cipher is None:
            tweak = hashlib.sha256(f"JLIS-NO|{generation}".encode()).hexdigest()[:14]
            cipher = self._ciphers[generation] = FF3Cipher(self._key_hex, tweak, radix=10)
        body = cipher.encrypt(resident_code)
        return f"{body}{check_digit(body)}"


def resident_code_problem(code: str) -> str | None:
    """Why `code` is not a resident record code, or None when it is one (11 ASCII digits)."""
    if not code:
        return "empty"
    if code != code.strip():
        return "has spaces around it"
    if not code.isascii() or not code.isdigit():
        return "must be ASCII digits 0-9 (full-width or other digits are not accepted)"
    if len(code) != 11:
        return f"must be 11 digits, not {len(code)}"
    return None


@dataclass
class IssuanceOutcome:
    numbers: list[IssuedNumber]
    rejected: list[RejectedItem]


async def log_operation(
    session: AsyncSession, caller: str, operation: str, outcome: str, serial: str | None = None, count: int = 1
) -> None:
    session.add(
        NumberOperation(
            at=utc_now(), caller=caller, operation=operation, person_serial=serial, count=count, outcome=outcome
        )
    )


async def log_refusal(database: Database, caller: str, operation: str, outcome: str, serial: str | None = None) -> None:
    """Refusals are logged in their own transaction: the request's own is rolled back."""
    async with database.sessions() as session:
        await log_operation(session, caller, operation, outcome, serial)
        await session.commit()


async def issue_individual_numbers(
    session: AsyncSession,
    cipher: NumberCipher,
    caller: str,
    municipality_code: str,
    resident_codes: Sequence[str],
    *,
    all_or_nothing: bool,
) -> IssuanceOutcome:
    """Each valid code of the caller's residents gets its number (the same one on every request);
    a new code becomes the caller's resident. Invalid items are reported; with `all_or_nothing`,
    any invalid item refuses the whole batch."""
    rejected: list[RejectedItem] = []
    valid: dict[str, list[int]] = {}
    for index, code in enumerate(resident_codes):
        problem = resident_code_problem(code)
        if problem:
            rejected.append(
                RejectedItem(index=index, resident_code=code, code="resident_code_malformed", reason=problem)
            )
        else:
            valid.setdefault(code, []).append(index)
    existing: dict[str, tuple[str, str, str]] = {}
    codes = list(valid)
    for start in range(0, len(codes), CHUNK):
        rows = await session.execute(
            select(Person.resident_code, Person.serial, Person.current_municipality, IndividualNumber.number)
            .join(IndividualNumber, IndividualNumber.person_serial == Person.serial)
            .where(Person.resident_code.in_(codes[start : start + CHUNK]), IndividualNumber.status == "valid")
        )
        existing.update({code: (serial, owner, number) for code, serial, owner, number in rows.all()})
    for code, (_serial, owner, _number) in existing.items():
        if owner != municipality_code:
            for index in valid.pop(code):
                rejected.append(
                    RejectedItem(
                        index=index,
                        resident_code=code,
                        code="not_your_resident",
                        reason=f"this person is a resident of {owner}; a move must be notified first",
                    )
                )
    rejected.sort(key=lambda item: item.index)
    if all_or_nothing and rejected:
        raise BadRequest(
            "batch_rejected",
            f"{len(rejected)} of {len(resident_codes)} items are invalid; nothing was issued.",
            rejected=[item.model_dump() for item in rejected[:1000]],
        )
    now = utc_now()
    new_people: list[dict[str, Any]] = []
    new_numbers: list[dict[str, Any]] = []
    numbers: dict[str, str] = {}
    for code in valid:
        if code in existing:
            numbers[code] = existing[code][2]
            continue
        serial, number = secrets.token_hex(16), cipher.individual_number_for(code)
        new_people.append(
            {"serial": serial, "resident_code": code, "current_municipality": municipality_code, "created_at": now}
        )
        new_numbers.append({"number": number, "person_serial": serial, "status": "valid", "issued_at": now})
        numbers[code] = number
    for start in range(0, len(new_people), CHUNK):
        await session.execute(insert(Person), new_people[start : start + CHUNK])
        await session.execute(insert(IndividualNumber), new_numbers[start : start + CHUNK])
        await session.execute(
            insert(Residence),
            [
                {"person_serial": p["serial"], "municipality_code": municipality_code, "registered_at": now}
                for p in new_people[start : start + CHUNK]
            ],
        )
    await log_operation(session, caller, "issue", f"issued:{len(numbers)} new:{len(new_people)}", count=len(numbers))
    issued = [
        IssuedNumber(index=index, resident_code=code, individual_number=numbers[code])
        for code, indexes in valid.items()
        for index in indexes
    ]
    issued.sort(key=lambda item: item.index)
    return IssuanceOutcome(numbers=issued, rejected=rejected)


async def transfer_residence(
    session: AsyncSession, caller: str, municipality_code: str, transfers: Sequence[ResidenceTransfer]
) -> int:
    """転入: the new city takes over a person from the city they left (which must be the current one)."""
    now = utc_now()
    for index, transfer in enumerate(transfers):
        person = await session.scalar(select(Person).where(Person.resident_code == transfer.resident_code))
        if person is None:
            raise NotFound("unknown_resident_code", f"Item {index}: no person has this resident code.", index=index)
        if person.current_municipality == municipality_code:
            continue
        if person.current_municipality != transfer.from_municipality:
            raise Conflict(
                "moved_from_elsewhere",
                f"Item {index}: this person is not a resident of {transfer.from_municipality}.",
                index=index,
            )
        person.current_municipality = municipality_code
        if await session.get(Residence, (person.serial, municipality_code)) is None:
            session.add(Residence(person_serial=person.serial, municipality_code=municipality_code, registered_at=now))
        await log_operation(session, caller, "transfer", f"from:{transfer.from_municipality}", person.serial)
    await session.flush()
    return len(transfers)


async def _require_owner(
    database: Database, caller: str, operation: str, municipality_code: str, person: Person
) -> None:
    if person.current_municipality != municipality_code:
        await log_refusal(database, caller, operation, "refused:not_your_resident", person.serial)
        raise Forbidden("not_your_resident", "Only the person's current municipality may do this.")


async def look_up_individual_number(
    session: AsyncSession, database: Database, caller: str, municipality_code: str, resident_code: str
) -> str:
    """The owning municipality asks for its resident's current number (logged)."""
    person = await session.scalar(select(Person).where(Person.resident_code == resident_code))
    if person is None:
        await log_refusal(database, caller, "lookup", "refused:unknown_resident_code")
        raise NotFound("unknown_resident_code", "No person has this resident code.")
    await _require_owner(database, caller, "lookup", municipality_code, person)
    number = await session.scalar(
        select(IndividualNumber.number).where(
            IndividualNumber.person_serial == person.serial, IndividualNumber.status == "valid"
        )
    )
    if number is None:
        raise RuntimeError("a person without a valid number")  # every person has exactly one
    await log_operation(session, caller, "lookup", "answered", person.serial)
    return number


async def change_individual_number(
    session: AsyncSession,
    database: Database,
    cipher: NumberCipher,
    caller: str,
    municipality_code: str,
    individual_number: str,
    reason: str,
) -> tuple[str, datetime]:
    """番号変更: a new number for the same person; the old one is kept, revoked, with the reason."""
    old = await session.get(IndividualNumber, individual_number)
    if old is None:
        raise NotFound("unknown_individual_number", "No person holds this individual number.")
    if old.status != "valid":
        raise Forbidden("number_revoked", "This individual number has already been changed.")
    person = await session.get(Person, old.person_serial)
    if person is None:
        raise RuntimeError("a number without its person")
    await _require_owner(database, caller, "change", municipality_code, person)
    now = utc_now()
    generation = person.number_generation
    while True:
        generation += 1
        candidate = cipher.individual_number_for(person.resident_code, generation)
        if await session.get(IndividualNumber, candidate) is None:
            break
    await session.execute(
        update(IndividualNumber)
        .where(IndividualNumber.number == old.number)
        .values(status="revoked", revoked_at=now, revocation_reason=reason)
    )
    person.number_generation = generation
    session.add(IndividualNumber(number=candidate, person_serial=person.serial, status="valid", issued_at=now))
    await log_operation(session, caller, "change", f"changed:{reason}", person.serial)
    await session.flush()
    return candidate, now
