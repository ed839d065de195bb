"""SCM access log (アクセス記録): every staff query, allowed or refused, appends one entry saying
who asked for what of whom and why; the entries are the leaves of a Merkle log, so editing or
deleting a stored entry shows (rule 5)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import JSON, bindparam, text
from sqlalchemy.sql.elements import TextClause

from tests.unit.linkage_fixture import CHILD_ALLOWANCE, HIGASHIMURAYAMA, INCOME_ITEMS, KODAIRA, Linkage, Mover

NOT_ON_WHITELIST = "child_medical_subsidy.certification"


async def three_queries(linkage: Linkage, mover: Mover) -> list[int]:
    """An allowed query, one the broker refuses and one the role refuses; their statuses."""
    kosodate = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    hoken = await linkage.staff_token(HIGASHIMURAYAMA, "hoken-001", "保険年金課")
    here = mover.address_numbers["higashimurayama"]
    responses = [
        await linkage.staff_query(HIGASHIMURAYAMA, kosodate, here),
        await linkage.staff_query(HIGASHIMURAYAMA, kosodate, here, procedure=NOT_ON_WHITELIST),
        await linkage.staff_query(HIGASHIMURAYAMA, hoken, here),
    ]
    return [response.status_code for response in responses]


async def tamper(linkage: Linkage, statement: TextClause, **values: Any) -> None:
    """Edit the intermediate server's database directly, as an insider with DB access could."""
    async with linkage.database(HIGASHIMURAYAMA.intermediate_host).engine.begin() as connection:
        await connection.execute(statement, values)


async def test_every_query_allowed_or_refused_appends_one_entry(linkage: Linkage) -> None:
    mover = await linkage.move_resident()

    statuses = await three_queries(linkage, mover)

    assert statuses == [200, 403, 403]
    log = await linkage.access_log(HIGASHIMURAYAMA)
    assert log["intact"] is True
    assert log["first_broken_entry"] is None
    who_what_why = [
        (e["staff_id"], e["department"], e["address_number"], e["procedure_code"], e["item_codes"], e["outcome"])
        for e in log["entries"]
    ]
    here, items = mover.address_numbers["higashimurayama"], sorted(INCOME_ITEMS)
    assert who_what_why == [
        ("kosodate-001", "子育て支援課", here, CHILD_ALLOWANCE, items, "read"),
        ("kosodate-001", "子育て支援課", here, NOT_ON_WHITELIST, items, "refused:not_on_whitelist"),
        ("hoken-001", "保険年金課", here, CHILD_ALLOWANCE, items, "refused:item_not_permitted_for_role"),
    ]
    assert all(e["provider_code"] == KODAIRA.code for e in log["entries"])


async def test_log_of_a_city_whose_staff_asked_nothing_is_empty_and_intact(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    await three_queries(linkage, mover)

    log = await linkage.access_log(KODAIRA)  # 小平市 only answered; its staff asked nothing

    assert log == {"intact": True, "first_broken_entry": None, "entries": []}


@pytest.mark.parametrize(
    ("statement", "values"),
    [
        pytest.param(
            text("UPDATE staff_access_log SET item_codes = :items WHERE seq = :seq").bindparams(
                bindparam("items", type_=JSON)
            ),
            {"items": ["tax.taxable_income"]},
            id="narrower items",
        ),
        pytest.param(
            text("UPDATE staff_access_log SET outcome = :outcome WHERE seq = :seq"),
            {"outcome": "read"},
            id="refusal rewritten as read",
        ),
    ],
)
async def test_editing_a_stored_entry_shows_at_that_entry(
    linkage: Linkage, statement: TextClause, values: dict[str, Any]
) -> None:
    mover = await linkage.move_resident()
    await three_queries(linkage, mover)
    edited = (await linkage.access_log(HIGASHIMURAYAMA))["entries"][1]["seq"]

    await tamper(linkage, statement, seq=edited, **values)

    log = await linkage.access_log(HIGASHIMURAYAMA)
    assert log["intact"] is False
    assert log["first_broken_entry"] == edited


async def test_deleting_a_stored_entry_shows_at_the_next_entry(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    await three_queries(linkage, mover)
    _, deleted, following = (e["seq"] for e in (await linkage.access_log(HIGASHIMURAYAMA))["entries"])

    await tamper(linkage, text("DELETE FROM staff_access_log WHERE seq = :seq"), seq=deleted)

    log = await linkage.access_log(HIGASHIMURAYAMA)
    assert log["intact"] is False
    assert log["first_broken_entry"] == following
