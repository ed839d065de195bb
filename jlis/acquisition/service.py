"""Acquisition numbers (取得番号): how an institution gets its symbol without the broker ever
seeing an individual number (DOMAIN flow 2). The municipality presents a number over the
resident-registry link; J-LIS answers with a random single-use ticket bound to the institution;
only the broker may redeem it, once, for the person's opaque serial.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from jlis.acquisition.models import AcquisitionNumber
from jlis.acquisition.schemas import RedeemedPerson
from jlis.numbers.check_digit import is_valid_individual_number
from jlis.numbers.models import IndividualNumber
from jlis.numbers.service import has_lived_in, log_operation
from services.db import utc_now
from services.problems import BadRequest, Forbidden, NotFound


async def person_serial_for_number(session: AsyncSession, individual_number: str) -> str:
    if not is_valid_individual_number(individual_number):
        raise BadRequest("individual_number_invalid", "The individual number's check digit is wrong.")
    record = await session.get(IndividualNumber, individual_number)
    if record is None:
        raise NotFound("unknown_individual_number", "No person holds this individual number.")
    if record.status != "valid":
        raise Forbidden("number_revoked", "This individual number has been changed and is no longer valid.")
    return record.person_serial


async def new_acquisition_number(
    session: AsyncSession, person_serial: str, for_institution: str, ttl_seconds: int, *, caller: str | None
) -> str:
    """One random single-use ticket for one person and one institution, logged."""
    now = utc_now()
    ticket = secrets.token_hex(16)
    session.add(
        AcquisitionNumber(
            number=ticket,
            person_serial=person_serial,
            for_institution=for_institution,
            issued_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    await log_operation(session, caller or for_institution, "acquisition", f"for:{for_institution}", person_serial)
    return ticket


async def issue_acquisition_numbers(
    session: AsyncSession,
    for_institution: str,
    individual_numbers: Sequence[str],
    ttl_seconds: int,
    *,
    residents_of: str | None,
    caller: str | None = None,
) -> list[str]:
    """One ticket per number; with `residents_of`, refuse people who never lived in that city."""
    tickets: list[str] = []
    for index, individual_number in enumerate(individual_numbers):
        serial = await person_serial_for_number(session, individual_number)
        if residents_of is not None and not await has_lived_in(session, serial, residents_of):
            raise Forbidden(
                "not_a_resident",
                f"Item {index}: this person has never been a resident of {residents_of}.",
                index=index,
            )
        tickets.append(await new_acquisition_number(session, serial, for_institution, ttl_seconds, caller=caller))
    await session.flush()
    return tickets


async def redeem_acquisition_numbers(
    session: AsyncSession, for_institution: str, tickets: Sequence[str]
) -> list[RedeemedPerson]:
    """Mark each ticket used (atomically, so a ticket redeems once) and return its person serial.

    Only tickets issued to `for_institution` redeem: another institution's ticket is refused
    without being used up.
    """
    now = utc_now()
    redeemed: list[RedeemedPerson] = []
    for index, ticket in enumerate(tickets):
        result = await session.execute(
            update(AcquisitionNumber)
            .where(
                AcquisitionNumber.number == ticket,
                AcquisitionNumber.for_institution == for_institution,
                AcquisitionNumber.redeemed_at.is_(None),
                AcquisitionNumber.expires_at > now,
            )
            .values(redeemed_at=now)
            .returning(AcquisitionNumber.person_serial, AcquisitionNumber.for_institution)
        )
        row = result.first()
        if row is None:
            known = await session.get(AcquisitionNumber, ticket)
            if known is not None and known.for_institution != for_institution:
                raise Forbidden(
                    "acquisition_number_not_yours",
                    f"Item {index}: this acquisition number was issued to another institution.",
                    index=index,
                )
            code = "acquisition_number_used_or_expired" if known else "unknown_acquisition_number"
            raise NotFound(code, f"Item {index}: the acquisition number cannot be redeemed.", index=index)
        redeemed.append(RedeemedPerson(acquisition_number=ticket, person_serial=row[0], for_institution=row[1]))
        await log_operation(session, "broker", "redeem", f"for:{for_institution}", row[0])
    return redeemed
