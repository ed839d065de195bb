"""Synthetic, clearly fictitious residents (Faker ja_JP, seeded): no real person is ever used.

`synthetic_residents` makes loose individuals for small scenarios; `synthetic_population` makes a
whole city of households with what its systems hold about them: resident tax over several years,
child allowance, national health insurance and welfare. The same seed gives the same city.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from faker import Faker


def synthetic_residents(count: int, seed: int, prefecture: str, city: str) -> list[dict[str, Any]]:
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    residents = []
    for _ in range(count):
        sex = rng.choice(["男", "女"])
        residents.append(
            {
                "resident_code": f"{rng.randrange(10**10, 10**11)}",
                "name": fake.name_male() if sex == "男" else fake.name_female(),
                "address": f"{prefecture}{city}{fake.town()}{fake.chome()}{fake.ban()}{fake.gou()}",
                "birth_date": fake.date_of_birth(minimum_age=0, maximum_age=95).isoformat(),
                "sex": sex,
            }
        )
    return residents


def synthetic_income(seed: int) -> tuple[int, int]:
    """(taxable income, income-based levy) in yen; the levy is 10 % as for resident tax."""
    rng = random.Random(seed)  # noqa: S311
    income = rng.randrange(1_500_000, 9_000_000)
    return income, income // 10


# Household sizes of a Japanese city, roughly (一人世帯 are the most common).
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5)
HOUSEHOLD_WEIGHTS = (38, 28, 17, 12, 5)
CHILD_ALLOWANCE_MONTHLY = {"under_3": 15_000, "school": 10_000}
WELFARE_SHARE = 0.02  # about 2 % of households receive 生活保護


@dataclass
class SyntheticPopulation:
    """A city's people and what each of its systems holds about them."""

    residents: list[dict[str, Any]] = field(default_factory=list)
    tax_assessments: list[dict[str, Any]] = field(default_factory=list)
    child_allowances: list[dict[str, Any]] = field(default_factory=list)
    health_insurance: list[dict[str, Any]] = field(default_factory=list)
    welfare_cases: list[dict[str, Any]] = field(default_factory=list)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class _CityBuilder:
    """One pass over households; every random draw comes from one seeded generator."""

    def __init__(self, seed: int, prefecture: str, city: str, tax_years: Sequence[int], today: date) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - test data, not secrets
        self.fake = Faker("ja_JP")
        self.fake.seed_instance(seed)
        self.prefecture, self.city, self.tax_years, self.today = prefecture, city, tuple(tax_years), today
        self.population = SyntheticPopulation()
        self.codes: set[int] = set()

    def resident_code(self) -> str:
        while True:
            code = self.rng.randrange(10**10, 10**11)
            if code not in self.codes:
                self.codes.add(code)
                return f"{code:011d}"

    def birth_date(self, min_age: int, max_age: int) -> date:
        return self.today - timedelta(days=self.rng.randrange(min_age * 365 + 1, max_age * 365 + 364))

    def person(self, household: str, relationship: str, address: str, family_name: str, sex: str, born: date) -> str:
        given = self.fake.first_name_male() if sex == "男" else self.fake.first_name_female()
        code = self.resident_code()
        self.population.residents.append(
            {
                "resident_code": code,
                "name": f"{family_name} {given}",
                "address": address,
                "birth_date": born.isoformat(),
                "sex": sex,
                "household_code": household,
                "relationship": relationship,
            }
        )
        return code

    def household(self, number: int, size: int) -> None:
        household = f"{number:010d}"
        address = f"{self.prefecture}{self.city}{self.fake.town()}{self.fake.chome()}{self.fake.ban()}{self.fake.gou()}"
        family_name = self.fake.last_name()
        head_sex = self.rng.choice(["男", "女"])
        head_born = self.birth_date(20 if size == 1 else 25, 90 if size == 1 else 60)
        head = self.person(household, "世帯主", address, family_name, head_sex, head_born)
        earners = [head]
        children: list[date] = []
        if size >= 2:
            spouse_sex = "女" if head_sex == "男" else "男"
            spouse_age = max(20, _age(head_born, self.today) + self.rng.randrange(-5, 6))
            spouse_born = self.birth_date(spouse_age, spouse_age)
            spouse = self.person(household, "配偶者", address, family_name, spouse_sex, spouse_born)
            if self.rng.random() < 0.6:
                earners.append(spouse)
        head_age = _age(head_born, self.today)
        for _ in range(size - 2):
            oldest = max(0, min(18, head_age - 20))
            born = self.birth_date(0, oldest) if oldest else self.birth_date(0, 0)
            children.append(born)
            self.person(household, "子", address, family_name, self.rng.choice(["男", "女"]), born)
        low_income = self.rng.random() < WELFARE_SHARE
        for earner in earners:
            base = 0 if low_income else self.rng.randrange(1_000_000, 9_000_000)
            for year in self.tax_years:
                income = int(base * (1 + self.rng.uniform(-0.08, 0.08))) // 1000 * 1000
                self.population.tax_assessments.append(
                    {"resident_code": earner, "tax_year": year, "taxable_income": income, "income_levy": income // 10}
                )
        eligible = [born for born in children if _age(born, self.today) < 18]
        if eligible:
            monthly = sum(
                CHILD_ALLOWANCE_MONTHLY["under_3" if _age(born, self.today) < 3 else "school"] for born in eligible
            )
            self.population.child_allowances.append(
                {"recipient_code": head, "children": len(eligible), "monthly_amount": monthly}
            )
        if low_income or head_age >= 65 or self.rng.random() < 0.2:
            # Self-employed, retired or without work: the city's 国民健康保険 covers the household.
            joined = (self.today - timedelta(days=self.rng.randrange(30, 3650))).isoformat()
            for resident in self.population.residents[-size:]:
                self.population.health_insurance.append(
                    {"resident_code": resident["resident_code"], "status": "enrolled", "changed_on": joined}
                )
        if low_income:
            started = (self.today - timedelta(days=self.rng.randrange(30, 3650))).isoformat()
            self.population.welfare_cases.append(
                {"head_code": head, "status": "receiving", "monthly_amount": 70_000 * size, "started_on": started}
            )


def synthetic_population(
    residents: int, seed: int, prefecture: str, city: str, *, tax_years: Sequence[int], today: date | None = None
) -> SyntheticPopulation:
    """About `residents` people in households (never more), seeded, with their systems' records."""
    builder = _CityBuilder(seed, prefecture, city, tax_years, today or date.today())
    number = 1
    while len(builder.population.residents) < residents:
        remaining = residents - len(builder.population.residents)
        size = builder.rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS)[0]
        builder.household(number, min(size, remaining))
        number += 1
    return builder.population
