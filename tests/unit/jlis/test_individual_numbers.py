"""Issuing individual numbers (個人番号の生成): a keyed permutation of resident codes plus a check digit."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import assume, given
from hypothesis import strategies as st

from jlis.numbers.check_digit import is_valid_individual_number
from jlis.numbers.service import NumberCipher
from tests.support import InProcessNetwork
from tests.unit.jlis.network import HIGASHIMURAYAMA, JLIS, KODAIRA, issue_numbers

keys = st.binary(min_size=32, max_size=32)
resident_codes = st.text("0123456789", min_size=11, max_size=11)


@given(keys, resident_codes)
def test_same_code_gets_the_same_number(key: bytes, code: str) -> None:
    assert NumberCipher(key).individual_number_for(code) == NumberCipher(key).individual_number_for(code)


@given(keys, st.sets(resident_codes, min_size=2, max_size=30))
def test_distinct_codes_get_distinct_valid_numbers(key: bytes, codes: set[str]) -> None:
    cipher = NumberCipher(key)
    numbers = [cipher.individual_number_for(code) for code in codes]
    assert len(set(numbers)) == len(codes)
    assert all(len(number) == 12 and is_valid_individual_number(number) for number in numbers)


@given(keys, st.integers(0, 10**11 - 5))
def test_consecutive_codes_get_numbers_without_a_constant_step(key: bytes, first: int) -> None:
    # Nobody should predict a neighbour's number from their own.
    cipher = NumberCipher(key)
    numbers = [int(cipher.individual_number_for(f"{first + offset:011d}")) for offset in range(5)]
    steps = {later - earlier for earlier, later in pairwise(numbers)}
    assert len(steps) > 1


@given(keys, keys, st.sets(resident_codes, min_size=3, max_size=10))
def test_another_key_gives_other_numbers(key: bytes, other_key: bytes, codes: set[str]) -> None:
    assume(key != other_key)
    numbers = {NumberCipher(key).individual_number_for(code) for code in codes}
    other_numbers = {NumberCipher(other_key).individual_number_for(code) for code in codes}
    assert numbers.isdisjoint(other_numbers)


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
