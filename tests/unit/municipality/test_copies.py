"""DBM copy registration (副本登録): a batch from the city's systems is checked whole and written
whole, and a copy registered again replaces the value other institutions will be answered with."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from municipality.intermediate.copies.models import Copy
from tests.unit.linkage_fixture import HIGASHIMURAYAMA, KODAIRA, City, Linkage, Mover


async def register_copies(linkage: Linkage, copies: list[dict[str, Any]], *, sent_by: City = KODAIRA) -> httpx.Response:
    """POST /copies to 小平市's intermediate server, signed by `sent_by`'s city systems."""
    async with linkage.network.client_for(KODAIRA.intermediate_host, signed_as=sent_by.city_host) as client:
        return await client.post("/copies", json={"copies": copies})


def copy_row(mover: Mover, item_code: str, value: int | bool, period: str | None = None) -> dict[str, Any]:
    return {
        "address_number": mover.address_numbers["kodaira"],
        "item_code": item_code,
        "period": period or str(mover.tax_year),
        "value": value,
        "as_of": date.today().isoformat(),
    }


async def copies_held(linkage: Linkage, mover: Mover) -> dict[tuple[str, str], Any]:
    """(item, period) → value, for every copy 小平市's intermediate server holds on the mover."""
    async with linkage.database(KODAIRA.intermediate_host).sessions() as session:
        rows = await session.scalars(select(Copy).where(Copy.address_number == mover.address_numbers["kodaira"]))
        return {(row.item_code, row.period): row.value for row in rows}


async def income_answered(linkage: Linkage, mover: Mover) -> dict[str, Any]:
    """What 東村山市's child-allowance staff are told about the mover's income by 小平市."""
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    response = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])
    assert response.status_code == 200, response.text
    return {item["item_code"]: item["value"] for item in response.json()["items"]}


async def test_copy_batch_with_an_unknown_item_is_refused_whole_and_earlier_copies_stay(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    before = await copies_held(linkage, mover)

    response = await register_copies(
        linkage,
        [
            copy_row(mover, "tax.taxable_income", 9_999_999),
            copy_row(mover, "tax.church_tax", 1),
            copy_row(mover, "tax.exemption_status", True),
        ],
    )

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "copy_batch_rejected"
    assert problem["errors"] == [{"index": 1, "reason": "unknown item code tax.church_tax"}]
    assert await copies_held(linkage, mover) == before
    assert before == {
        ("tax.taxable_income", str(mover.tax_year)): mover.taxable_income,
        ("tax.income_levy", str(mover.tax_year)): mover.income_levy,
    }
    assert await income_answered(linkage, mover) == {
        "tax.taxable_income": mover.taxable_income,
        "tax.income_levy": mover.income_levy,
    }


async def test_registering_the_same_copy_again_replaces_its_value(linkage: Linkage) -> None:
    mover = await linkage.move_resident()

    response = await register_copies(linkage, [copy_row(mover, "tax.taxable_income", 5_123_456)])

    assert response.status_code == 200, response.text
    assert response.json() == {"registered": 1}
    assert await copies_held(linkage, mover) == {
        ("tax.taxable_income", str(mover.tax_year)): 5_123_456,
        ("tax.income_levy", str(mover.tax_year)): mover.income_levy,
    }
    assert (await income_answered(linkage, mover))["tax.taxable_income"] == 5_123_456


async def test_corrected_assessment_in_the_tax_system_flows_to_the_copy(linkage: Linkage) -> None:
    mover = await linkage.move_resident()

    response = await linkage.assess_tax(KODAIRA, mover.resident["resident_code"], mover.tax_year, 3_000_000, 300_000)

    assert response.status_code == 200, response.text
    assert await income_answered(linkage, mover) == {"tax.taxable_income": 3_000_000, "tax.income_levy": 300_000}


async def test_another_citys_systems_may_not_register_copies_here(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    before = await copies_held(linkage, mover)

    response = await register_copies(linkage, [copy_row(mover, "tax.taxable_income", 1)], sent_by=HIGASHIMURAYAMA)

    assert response.status_code == 403
    assert response.json()["code"] == "caller_not_permitted"
    assert await copies_held(linkage, mover) == before
