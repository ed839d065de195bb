"""Issuing individual numbers (個人番号の生成) from resident record codes.

The first eleven digits are the resident code enciphered with FF3-1 (NIST SP 800-38G rev.1,
radix 10) under J-LIS's secret key: a keyed permutation of 11-digit strings, so two codes never
share a number, nobody without the key can compute a number from a code, and consecutive codes
give unrelated numbers. The twelfth digit is the official check digit.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from ff3 import FF3Cipher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jlis.numbers.check_digit import check_digit
from jlis.numbers.models import IndividualNumber, Person, Residence
from jlis.numbers.schemas import IssuedNumber
from services.db import utc_now

TWEAK = "4a4c49532d4e4f"  # "JLIS-NO": fixed; the key is the secret


class NumberCipher:
    """J-LIS's keyed function from resident code to the first eleven digits of a number."""

    def __init__(self, key: bytes) -> None:
        self._cipher = FF3Cipher(key.hex(), TWEAK, radix=10)

    def individual_number_for(self, resident_code: str) -> str:
        body = self._cipher.encrypt(resident_code)
        return f"{body}{check_digit(body)}"


async def issue_individual_numbers(
    session: AsyncSession, cipher: NumberCipher, municipality_code: str, resident_codes: Sequence[str]
) -> list[IssuedNumber]:
    """Return each code's number, creating the person on first sight; the same code keeps its number."""
    wanted = list(dict.fromkeys(resident_codes))
    existing: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        rows = await session.execute(
            select(Person.resident_code, Person.serial, IndividualNumber.number)
            .join(IndividualNumber, IndividualNumber.person_serial == Person.serial)
            .where(Person.resident_code.in_(chunk), IndividualNumber.status == "valid")
        )
        existing.update({code: (serial, number) for code, serial, number in rows.all()})
    resided = set(
        (
            await session.scalars(
                select(Residence.person_serial).where(
                    Residence.municipality_code == municipality_code,
                    Residence.person_serial.in_([serial for serial, _ in existing.values()]),
                )
            )
        ).all()
    )
    now = utc_now()
    new_people = {code: secrets.token_hex(16) for code in wanted if code not in existing}
    session.add_all(Person(serial=serial, resident_code=code, created_at=now) for code, serial in new_people.items())
    await session.flush()  # people before the rows that reference them
    numbers: dict[str, str] = {}
    for code in wanted:
        if code in existing:
            serial, number = existing[code]
        else:
            serial, number = new_people[code], cipher.individual_number_for(code)
            session.add(IndividualNumber(number=number, person_serial=serial, status="valid", issued_at=now))
        if serial not in resided:
            session.add(Residence(person_serial=serial, municipality_code=municipality_code, registered_at=now))
        numbers[code] = number
    await session.flush()
    return [IssuedNumber(resident_code=code, individual_number=numbers[code]) for code in resident_codes]
