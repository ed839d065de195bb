"""Synthetic, clearly fictitious residents (Faker ja_JP, seeded): no real person is ever used."""

from __future__ import annotations

import random
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
