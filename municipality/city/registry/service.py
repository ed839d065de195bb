"""Registering residents: record them, give each an address number, obtain their individual
numbers from J-LIS, and have the intermediate server obtain the city's symbol for each.

Everything is one transaction: if J-LIS or the intermediate server refuses, nothing is kept
here (J-LIS's numbers are the same on retry; unused acquisition numbers expire).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.city.config import CitySettings
from municipality.city.registry.models import AddressRecord, Resident
from municipality.city.registry.schemas import (
    CardApplication,
    IssuedCardOut,
    NumberChangeOut,
    RegisteredResident,
    ResidentIn,
)
from services.db import utc_now
from services.http import ServiceClient
from services.problems import Conflict, NotFound

CHUNK = 1000


async def register_residents(
    session: AsyncSession, client: ServiceClient, settings: CitySettings, residents: Sequence[ResidentIn]
) -> list[RegisteredResident]:
    codes = [r.resident_code for r in residents]
    if len(set(codes)) != len(codes):
        raise Conflict("duplicate_resident_code", "The batch names a resident code twice.")
    known = set((await session.scalars(select(Resident.resident_code).where(Resident.resident_code.in_(codes)))).all())
    if known:
        raise Conflict("resident_already_registered", f"{len(known)} of these residents are already registered.")
    now = utc_now()
    session.add_all(Resident(**r.model_dump(), registered_at=now) for r in residents)
    await session.flush()  # residents before the address records that reference them
    moves = [
        {"resident_code": r.resident_code, "from_municipality": r.moved_in_from} for r in residents if r.moved_in_from
    ]
    for start in range(0, len(moves), CHUNK):
        await client.call(
            "POST",
            f"{settings.jlis_url}/residence-transfers",
            {"transfers": moves[start : start + CHUNK]},
            upstream="J-LIS",
        )
    registered: list[RegisteredResident] = []
    for start in range(0, len(codes), CHUNK):
        registered.extend(await _link_chunk(session, client, settings, codes[start : start + CHUNK]))
    await session.flush()
    return registered


async def _link_chunk(
    session: AsyncSession, client: ServiceClient, settings: CitySettings, codes: list[str]
) -> list[RegisteredResident]:
    issued = await client.call(
        "POST",
        f"{settings.jlis_url}/individual-numbers",
        {"resident_codes": codes, "all_or_nothing": True},
        upstream="J-LIS",
    )
    numbers = [item["individual_number"] for item in issued["numbers"]]
    records = [
        AddressRecord(address_number=new_address_number(), resident_code=code, individual_number=number)
        for code, number in zip(codes, numbers, strict=True)
    ]
    session.add_all(records)
    tickets = await client.call(
        "POST", f"{settings.jlis_url}/acquisition-numbers", {"individual_numbers": numbers}, upstream="J-LIS"
    )
    await client.call(
        "POST",
        f"{settings.intermediate_url}/symbols",
        {
            "links": [
                {"address_number": record.address_number, "acquisition_number": ticket}
                for record, ticket in zip(records, tickets["acquisition_numbers"], strict=True)
            ]
        },
        upstream="intermediate server",
    )
    return [
        RegisteredResident(
            resident_code=r.resident_code, address_number=r.address_number, individual_number=r.individual_number
        )
        for r in records
    ]


def new_address_number() -> str:
    """A random 15-digit internal number: it says nothing about the person (unlike a sequence)."""
    return f"{secrets.randbelow(9 * 10**14) + 10**14}"


async def address_numbers_for(session: AsyncSession, resident_codes: Sequence[str]) -> dict[str, str]:
    rows = await session.execute(
        select(AddressRecord.resident_code, AddressRecord.address_number).where(
            AddressRecord.resident_code.in_(list(resident_codes))
        )
    )
    return dict(rows.all())


async def change_individual_number(
    session: AsyncSession, client: ServiceClient, settings: CitySettings, resident_code: str, reason: str
) -> NumberChangeOut:
    """番号変更 at the resident's request or on the city's finding of a leak: J-LIS issues a new
    number; the address record follows. Symbols and records stay, tied to the same person."""
    record = await session.scalar(select(AddressRecord).where(AddressRecord.resident_code == resident_code))
    if record is None:
        raise NotFound("unknown_resident", "No registered resident has this resident code.")
    answer = await client.call(
        "POST",
        f"{settings.jlis_url}/individual-numbers/changes",
        {"individual_number": record.individual_number, "reason": reason},
        upstream="J-LIS",
    )
    record.individual_number = answer["individual_number"]
    await session.flush()
    return NumberChangeOut(
        resident_code=resident_code,
        individual_number=record.individual_number,
        previous_number_revoked_at=answer["previous_number_revoked_at"],
    )


async def issue_card(
    session: AsyncSession,
    client: ServiceClient,
    settings: CitySettings,
    application: CardApplication,
) -> IssuedCardOut:
    """個人番号カードの交付 at the counter: J-LIS certifies the card's keys for this resident, with
    the registry's name and address in the signing certificate."""
    row = (
        await session.execute(
            select(Resident, AddressRecord.individual_number)
            .join(AddressRecord, AddressRecord.resident_code == Resident.resident_code)
            .where(Resident.resident_code == application.resident_code)
        )
    ).first()
    if row is None:
        raise NotFound("unknown_resident", "No registered resident has this resident code.")
    resident, individual_number = row
    answer = await client.call(
        "POST",
        f"{settings.jlis_url}/cards",
        {
            "individual_number": individual_number,
            "auth_public_key_pem": application.auth_public_key_pem,
            "signing_public_key_pem": application.signing_public_key_pem,
            "name": resident.name,
            "address": resident.address,
            "birth_date": resident.birth_date.isoformat(),
        },
        upstream="J-LIS",
    )
    return IssuedCardOut.model_validate(answer)
