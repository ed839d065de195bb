"""Issuing individual numbers (個人番号の生成): a keyed function of the resident code, made
unique by the table of issued numbers, plus the official check digit."""

from __future__ import annotations

import uuid
from itertools import pairwise
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jlis.models import Base
from jlis.numbers.check_digit import is_valid_individual_number
from jlis.numbers.service import NumberKey, issue_individual_numbers
from services.db import Database
from tests.support import InProcessNetwork
from tests.unit.jlis.network import HIGASHIMURAYAMA, JLIS, KODAIRA, issue_numbers

keys = st.binary(min_size=32, max_size=32)
resident_codes = st.text("0123456789", min_size=11, max_size=11)


@given(keys, resident_codes, st.integers(0, 5), st.integers(0, 5))
def test_candidate_is_a_valid_number_and_the_same_for_the_same_input(
    key: bytes, code: str, generation: int, attempt: int
) -> None:
    first = NumberKey(key).candidate(code, generation, attempt)
    assert first == NumberKey(key).candidate(code, generation, attempt)
    assert len(first) == 12 and is_valid_individual_number(first)


@given(keys, st.integers(0, 10**11 - 5))
def test_consecutive_codes_get_numbers_without_a_constant_step(key: bytes, first: int) -> None:
    # Nobody should predict a neighbour's number from their own.
    number_key = NumberKey(key)
    numbers = [int(number_key.candidate(f"{first + offset:011d}")) for offset in range(5)]
    steps = {later - earlier for earlier, later in pairwise(numbers)}
    assert len(steps) > 1


@given(keys, keys, st.sets(resident_codes, min_size=3, max_size=10))
def test_another_key_gives_other_numbers(key: bytes, other_key: bytes, codes: set[str]) -> None:
    assume(key != other_key)
    numbers = {NumberKey(key).candidate(code) for code in codes}
    other_numbers = {NumberKey(other_key).candidate(code) for code in codes}
    assert numbers.isdisjoint(other_numbers)


class CollidingKey(NumberKey):
    """A key whose first attempts land in a space of 20 numbers, so collisions are certain."""

    def candidate(self, resident_code: str, generation: int = 0, attempt: int = 0) -> str:
        if attempt < 3:
            return super().candidate(f"{int(resident_code) % 20:011d}", generation, attempt)
        return super().candidate(resident_code, generation, attempt)


async def _issue(database: Database, key: NumberKey, codes: list[str]) -> list[str]:
    async with database.sessions() as session:
        outcome = await issue_individual_numbers(session, key, "test", "132110", codes, all_or_nothing=True)
        await session.commit()
    return [number for _index, _code, number in outcome.numbers]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.binary(min_size=32, max_size=32),
    st.lists(st.sets(st.integers(10**10, 10**11 - 1), min_size=1, max_size=120), min_size=1, max_size=3),
)
async def test_numbers_stay_unique_when_candidates_collide(tmp_path: Path, key: bytes, batches: list[set[int]]) -> None:
    """Uniqueness comes from the table: with a key made to collide, every number is still new."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / f'{uuid.uuid4().hex}.db'}")
    await database.create_tables(Base.metadata)
    issued: dict[str, str] = {}
    try:
        for batch in batches:
            codes = [f"{code:011d}" for code in sorted(batch)]
            for code, number in zip(codes, await _issue(database, CollidingKey(key), codes), strict=True):
                assert issued.setdefault(code, number) == number  # the same code keeps its number
    finally:
        await database.dispose()
    assert len(set(issued.values())) == len(issued)
    assert all(is_valid_individual_number(number) for number in issued.values())


async def test_issuing_the_same_codes_again_returns_the_same_numbers(network: InProcessNetwork) -> None:
    codes = ["12345678901", "00000000001", "99999999999"]
    first = await issue_numbers(network, codes)
    again = await issue_numbers(network, codes)
    assert again == first
    assert len(set(first)) == len(codes)


async def test_numbers_come_back_in_request_order(network: InProcessNetwork) -> None:
    codes = ["55555555555", "11111111111", "99999999999", "33333333333"]
    singly = [(await issue_numbers(network, [code]))[0] for code in codes]
    async with network.client_for(JLIS, signed_as=KODAIRA) as kodaira:
        response = await kodaira.post("/individual-numbers", json={"resident_codes": codes[::-1]})
    assert response.status_code == 200
    issued = response.json()["numbers"]
    assert [item["resident_code"] for item in issued] == codes[::-1]
    assert [item["individual_number"] for item in issued] == singly[::-1]


async def test_code_repeated_in_one_request_gets_one_number(network: InProcessNetwork) -> None:
    numbers = await issue_numbers(network, ["12345678901", "22222222222", "12345678901"])
    assert numbers[0] == numbers[2] != numbers[1]


async def test_a_person_keeps_their_number_after_moving_to_another_city(network: InProcessNetwork) -> None:
    [at_kodaira] = await issue_numbers(network, ["12345678901"])
    async with network.client_for(JLIS, signed_as=HIGASHIMURAYAMA) as higashimurayama:
        moved = await higashimurayama.post(
            "/residence-transfers",
            json={"transfers": [{"resident_code": "12345678901", "from_municipality": "132110"}]},
        )
    [at_higashimurayama] = await issue_numbers(network, ["12345678901"], city=HIGASHIMURAYAMA)
    assert moved.status_code == 200
    assert at_higashimurayama == at_kodaira
