"""Issuing and changing individual numbers (個人番号の生成・変更).

A number's first eleven digits are HMAC-SHA256 under J-LIS's secret key of (resident code,
generation, attempt), reduced to 11 digits; the twelfth is the official check digit. Nobody
without the key can compute a number from a code, and consecutive codes give unrelated numbers.
Uniqueness comes from the table of every number ever issued (valid or revoked): a candidate that
is already taken, or taken twice in one batch, moves to the next attempt. The table, not the
function, is the authority: the same code keeps its stored number. A changed number is the next
generation's; the person's serial never changes, so their symbols and records stay theirs.
See docs/jlis.md for why this and not FF3-1.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jlis.numbers.check_digit import check_digit
from jlis.numbers.models import IndividualNumber, NumberOperation, Person, Residence
from jlis.numbers.schemas import RejectedItem, ResidenceTransfer
from services.db import Database, bulk_insert, utc_now
from services.problems import BadRequest, Conflict, Forbidden, NotFound

CHUNK = 5000
NUMBER_SPACE = 10**11


class NumberKey:
    """J-LIS's keyed function from (resident code, generation, attempt) to a candidate number."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def candidate(self, resident_code: str, generation: int = 0, attempt: int = 0) -> str:
        message = f"{resident_code}|{generation}|{attempt}".encode()
        digest = hmac.digest(self._key, message, "sha256")
        body = f"{int.from_bytes(digest[:8], 'big') % NUMBER_SPACE:011d}"
        return f"{body}{check_digit(body)}"


async def _taken(session: AsyncSession, numbers: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(numbers), CHUNK):
        chunk = numbers[start : start + CHUNK]
        taken.update(
            (await session.scalars(select(IndividualNumber.number).where(IndividualNumber.number.in_(chunk)))).all()
        )
    return taken


async def assign_unique_numbers(session: AsyncSession, key: NumberKey, wanted: dict[str, int]) -> dict[str, str]:
    """A number never issued before for each resident code (at its generation)."""
    attempts = dict.fromkeys(wanted, 0)
    assigned: dict[str, str] = {}
    pending = list(wanted)
    while pending:
        candidates = {code: key.candidate(code, wanted[code], attempts[code]) for code in pending}
        taken = await _taken(session, list(candidates.values()))
        claimed = set(assigned.values())
        retry: list[str] = []
        for code, number in candidates.items():
            if number in taken or number in claimed:
                attempts[code] += 1
                retry.append(code)
            else:
                assigned[code] = number
                claimed.add(number)
        pending = retry
    return assigned


async def has_lived_in(session: AsyncSession, person_serial: str, municipality_code: str) -> bool:
    """Whether the person lives, or once lived, in this municipality."""
    person = await session.get(Person, person_serial)
    if person is not None and person.current_municipality == municipality_code:
        return True
    return await session.get(Residence, (person_serial, municipality_code)) is not None


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
    numbers: list[tuple[int, str, str]]  # (index in the request, resident code, number), in order
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
    key: NumberKey,
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
    new_codes = [code for code in valid if code not in existing]
    fresh = await assign_unique_numbers(session, key, dict.fromkeys(new_codes, 0))
    numbers = {code: existing[code][2] for code in valid if code in existing} | fresh
    serials = {code: secrets.token_hex(16) for code in new_codes}
    new_codes.sort(key=serials.__getitem__)  # in serial order, both serial indexes fill sequentially
    for start in range(0, len(new_codes), CHUNK):
        chunk = new_codes[start : start + CHUNK]
        # columns in table order: persons (serial, resident_code, current_municipality,
        # number_generation, created_at); individual_numbers (number, person_serial, status,
        # issued_at, revoked_at, revocation_reason)
        await bulk_insert(session, Person, [(serials[c], c, municipality_code, 0, now) for c in chunk])
        await bulk_insert(
            session,
            IndividualNumber,
            [(fresh[c], serials[c], "valid", now, None, None) for c in chunk],
        )
    await log_operation(session, caller, "issue", f"issued:{len(numbers)} new:{len(new_codes)}", count=len(numbers))
    issued = [(index, code, numbers[code]) for code, indexes in valid.items() for index in indexes]
    issued.sort()
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
        if await session.get(Residence, (person.serial, person.current_municipality)) is None:
            session.add(
                Residence(person_serial=person.serial, municipality_code=person.current_municipality, registered_at=now)
            )
        person.current_municipality = municipality_code
        await log_operation(session, caller, "transfer", f"from:{transfer.from_municipality}", person.serial)
    await session.flush()
    return len(transfers)


async def require_owner(
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
    await require_owner(database, caller, "lookup", municipality_code, person)
    number = await session.scalar(
        select(IndividualNumber.number).where(
            IndividualNumber.person_serial == person.serial, IndividualNumber.status == "valid"
        )
    )
    if number is None:
        raise RuntimeError("a person without a valid number")  # every person has exactly one
    await log_operation(session, caller, "lookup", "answered", person.serial)
    return number
