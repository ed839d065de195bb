"""The synthetic population: seeded and repeatable, made of households whose members agree with
each other, with each source system's records drawn from those households. Test data only."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date

from devnet.load_population import household_chunks
from devnet.population import SyntheticPopulation, synthetic_population

TODAY = date(2026, 11, 29)
YEARS = range(2021, 2026)


def city(seed: int = 1, residents: int = 2_000) -> SyntheticPopulation:
    return synthetic_population(residents, seed, "東京都", "小平市", tax_years=YEARS, today=TODAY)


def age(born: str) -> int:
    birth = date.fromisoformat(born)
    return TODAY.year - birth.year - ((TODAY.month, TODAY.day) < (birth.month, birth.day))


def test_the_same_seed_gives_the_same_city_and_another_seed_another() -> None:
    assert city(1) == city(1)
    assert city(1).residents != city(2).residents


def test_exactly_the_asked_number_of_residents_with_unique_codes() -> None:
    residents = city().residents
    assert len(residents) == 2_000
    assert len({r["resident_code"] for r in residents}) == 2_000
    assert all(re.fullmatch(r"[0-9]{11}", r["resident_code"]) for r in residents)


def test_every_household_has_one_head_one_address_and_plausible_members() -> None:
    households = defaultdict(list)
    for resident in city().residents:
        households[resident["household_code"]].append(resident)
    for members in households.values():
        assert Counter(m["relationship"] for m in members)["世帯主"] == 1
        assert len({m["address"] for m in members}) == 1
        head = next(m for m in members if m["relationship"] == "世帯主")
        for child in (m for m in members if m["relationship"] == "子"):
            assert age(child["birth_date"]) < age(head["birth_date"])
    sizes = Counter(len(members) for members in households.values())
    assert sizes[1] > sizes[5]  # single-person households are the most common, as in a real city


def test_records_follow_the_households() -> None:
    population = city()
    by_code = {r["resident_code"]: r for r in population.residents}
    assert {a["tax_year"] for a in population.tax_assessments} == set(YEARS)
    for allowance in population.child_allowances:
        recipient = by_code[allowance["recipient_code"]]
        assert recipient["relationship"] == "世帯主"
        children = [
            r
            for r in population.residents
            if r["household_code"] == recipient["household_code"] and r["relationship"] == "子"
        ]
        assert allowance["children"] == sum(age(c["birth_date"]) < 18 for c in children) > 0
    incomes = {(a["resident_code"], a["tax_year"]): a["taxable_income"] for a in population.tax_assessments}
    for case in population.welfare_cases:
        assert by_code[case["head_code"]]["relationship"] == "世帯主"
        assert all(incomes.get((case["head_code"], year), 0) == 0 for year in YEARS)


def test_loading_never_splits_a_household_between_requests() -> None:
    residents = city().residents
    chunks = household_chunks(residents, 100)
    assert sum(len(chunk) for chunk in chunks) == len(residents)
    seen: set[str] = set()
    for chunk in chunks:
        households = {r["household_code"] for r in chunk}
        assert not households & seen
        seen |= households
