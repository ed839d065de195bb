"""The city's resident registry and integrated address system: registration is all-or-nothing,
and the individual number stays in the city's own systems, while its intermediate server keeps
only symbol ↔ address number (rule 1)."""

from __future__ import annotations

import re

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection

from municipality.city.registry.models import AddressRecord, Resident
from municipality.intermediate.symbols.models import SymbolLink
from tests.unit.linkage_fixture import CITIES, HIGASHIMURAYAMA, KODAIRA, Linkage, stored_text, synthetic_resident

PERSONAL_COLUMNS = {"individual_number", "resident_code", "name", "address", "birth_date", "sex"}


async def city_holds(linkage: Linkage, resident_code: str) -> tuple[int, int]:
    """(resident rows, address records) the city holds for a resident code."""
    async with linkage.database(KODAIRA.city_host).sessions() as session:
        residents = await session.scalar(
            select(func.count()).select_from(Resident).where(Resident.resident_code == resident_code)
        )
        records = await session.scalar(
            select(func.count()).select_from(AddressRecord).where(AddressRecord.resident_code == resident_code)
        )
    return residents or 0, records or 0


async def symbols_held(linkage: Linkage) -> int:
    async with linkage.database(KODAIRA.intermediate_host).sessions() as session:
        return await session.scalar(select(func.count()).select_from(SymbolLink)) or 0


async def test_registering_a_resident_twice_is_refused_and_nothing_is_half_written(linkage: Linkage) -> None:
    settled, newcomer = synthetic_resident(1, KODAIRA), synthetic_resident(2, KODAIRA)
    assert (await linkage.register_residents(KODAIRA, [settled])).status_code == 200

    response = await linkage.register_residents(KODAIRA, [newcomer, settled])

    assert response.status_code == 409
    assert response.json()["code"] == "resident_already_registered"
    assert await city_holds(linkage, newcomer["resident_code"]) == (0, 0)
    assert await city_holds(linkage, settled["resident_code"]) == (1, 1)
    assert await symbols_held(linkage) == 1
    retried = await linkage.register_residents(KODAIRA, [newcomer])
    assert retried.status_code == 200, retried.text
    assert await symbols_held(linkage) == 2


async def test_registration_the_intermediate_server_cannot_complete_leaves_nothing(linkage: Linkage) -> None:
    resident = synthetic_resident(1, KODAIRA)
    linkage.take_down(KODAIRA.intermediate_host)

    response = await linkage.register_residents(KODAIRA, [resident])

    assert response.status_code == 503
    assert response.json()["code"] == "upstream_unavailable"
    assert await city_holds(linkage, resident["resident_code"]) == (0, 0)
    linkage.bring_back(KODAIRA.intermediate_host)
    retried = await linkage.register_residents(KODAIRA, [resident])
    assert retried.status_code == 200, retried.text
    assert await city_holds(linkage, resident["resident_code"]) == (1, 1)
    assert await symbols_held(linkage) == 1


async def test_city_keeps_the_individual_number_with_the_address_number(linkage: Linkage) -> None:
    mover = await linkage.move_resident()

    async with linkage.database(KODAIRA.city_host).sessions() as session:
        record = await session.get(AddressRecord, mover.address_numbers["kodaira"])

    assert record is not None
    assert record.individual_number == mover.individual_number
    assert record.resident_code == mover.resident["resident_code"]


async def test_intermediate_server_holds_only_symbol_and_address_number_of_a_person(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    answered = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])
    assert answered.status_code == 200, answered.text  # copies, provisions and the access log all hold data now
    identifying = [
        mover.individual_number,
        mover.resident["resident_code"],
        mover.resident["name"],
        mover.resident["address"],
        mover.resident["birth_date"],
    ]

    for city in CITIES:
        database = linkage.database(city.intermediate_host)
        async with database.sessions() as session:
            links = (await session.scalars(select(SymbolLink))).all()
        async with database.engine.connect() as connection:
            columns = await connection.run_sync(column_names)
        stored = await stored_text(database)

        assert [(link.address_number, bool(re.fullmatch(r"[A-Z2-7]{32}", link.symbol))) for link in links] == [
            (mover.address_numbers[city.slug], True)
        ]
        assert not columns & PERSONAL_COLUMNS
        assert [value for value in identifying if value in stored] == []


def column_names(connection: Connection) -> set[str]:
    inspector = inspect(connection)
    return {column["name"] for table in inspector.get_table_names() for column in inspector.get_columns(table)}
