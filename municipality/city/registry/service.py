"""Registering residents: record them, give each an address number, obtain their individual
numbers from J-LIS, and have the intermediate server obtain the city's symbol for each.

Everything is one transaction: if J-LIS or the intermediate server refuses, nothing is kept
here (J-LIS's numbers are the same on retry; unused acquisition numbers expire).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.city.config import CitySettings
from municipality.city.copies import push_copies
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
LOOKUP_CHUNK = 10_000


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
    await push_household_copies(session, client, settings, {r.household_code for r in residents if r.household_code})
    return registered


RELATIONSHIP_ORDER = ("世帯主", "配偶者", "子", "親", "その他")


async def push_household_copies(
    session: AsyncSession, client: ServiceClient, settings: CitySettings, household_codes: set[str]
) -> int:
    """世帯構成 as a copy for every member of these households: the relationships only
    (e.g. "世帯主・配偶者・子"), never a name or a birth date."""
    codes, members = sorted(household_codes), list[tuple[str, str | None, str]]()
    for start in range(0, len(codes), LOOKUP_CHUNK):
        rows = await session.execute(
            select(Resident.household_code, Resident.relationship, AddressRecord.address_number)
            .join(AddressRecord, AddressRecord.resident_code == Resident.resident_code)
            .where(Resident.household_code.in_(codes[start : start + LOOKUP_CHUNK]))
        )
        members.extend((str(household), relationship, address) for household, relationship, address in rows)
    compositions: dict[str, list[str]] = {}
    for household, relationship, _address in members:
        compositions.setdefault(household, []).append(relationship or "その他")
    today = date.today().isoformat()
    copies = [
        {
            "address_number": address,
            "item_code": "resident.household",
            "period": today,
            "value": "・".join(sorted(compositions[household], key=RELATIONSHIP_ORDER.index))[:64],
            "as_of": today,
        }
        for household, _relationship, address in members
    ]
    return await push_copies(client, settings, "resident_registry", copies)


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
    codes, found = sorted(set(resident_codes)), dict[str, str]()
    for start in range(0, len(codes), LOOKUP_CHUNK):  # within every database's parameter limit
        rows = await session.execute(
            select(AddressRecord.resident_code, AddressRecord.address_number).where(
                AddressRecord.resident_code.in_(codes[start : start + LOOKUP_CHUNK])
            )
        )
        found.update((code, number) for code, number in rows)
    return found


async def addresses_of_residents(session: AsyncSession, resident_codes: Sequence[str]) -> dict[str, str]:
    """Each resident's address number; 404 naming the rows whose resident is not registered."""
    addresses = await address_numbers_for(session, resident_codes)
    unknown = [index for index, code in enumerate(resident_codes) if code not in addresses]
    if unknown:
        raise NotFound("unknown_resident", f"Items {unknown[:20]} name no registered resident.", indexes=unknown[:100])
    return addresses


async def household_members(session: AsyncSession, resident_codes: Sequence[str]) -> dict[str, list[str]]:
    """Everyone registered in each resident's household (the resident alone when they have none)."""
    households: dict[str, str | None] = {}
    codes = sorted(set(resident_codes))
    for start in range(0, len(codes), LOOKUP_CHUNK):
        rows = await session.execute(
            select(Resident.resident_code, Resident.household_code).where(
                Resident.resident_code.in_(codes[start : start + LOOKUP_CHUNK])
            )
        )
        households.update((code, household) for code, household in rows)
    wanted = sorted({code for code in households.values() if code})
    members: dict[str, list[str]] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        rows = await session.execute(
            select(Resident.household_code, Resident.resident_code).where(
                Resident.household_code.in_(wanted[start : start + LOOKUP_CHUNK])
            )
        )
        for household, code in rows:
            members.setdefault(str(household), []).append(str(code))
    return {code: members.get(household, [code]) if household else [code] for code, household in households.items()}


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
