"""SCM views (閲覧): staff read the latest copies (副本) their own city holds of a person, only the
items their department's role may view (rule 6), and every read or refusal is in the access log
(rule 5)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from tests.unit.linkage_fixture import INCOME_ITEMS, KODAIRA, Linkage, Mover, bearer

CITY = KODAIRA  # 小平市 holds the mover's income copies (last year's resident-tax assessment)


async def view_copies(linkage: Linkage, token: str, address_number: str, items: Sequence[str]) -> httpx.Response:
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        return await client.get(
            "/views/copies",
            params={"address_number": address_number, "item_codes": list(items)},
            headers=bearer(token),
        )


def here(mover: Mover) -> str:
    return mover.address_numbers[CITY.slug]


async def test_tax_staff_view_the_income_copies_their_city_holds(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(CITY, "kazei-001", "課税課")

    response = await view_copies(linkage, token, here(mover), [*INCOME_ITEMS, "tax.exemption_status"])

    assert response.status_code == 200, response.text
    view = response.json()
    assert {item["item_code"]: (item["value"], item["period"]) for item in view["items"]} == {
        "tax.taxable_income": (mover.taxable_income, str(mover.tax_year)),
        "tax.income_levy": (mover.income_levy, str(mover.tax_year)),
    }
    assert view["missing_items"] == ["tax.exemption_status"]  # permitted, but no copy is held
    [entry] = (await linkage.access_log(CITY))["entries"]
    assert (entry["staff_id"], entry["department"], entry["outcome"]) == ("kazei-001", "課税課", "read")
    assert (entry["address_number"], entry["provider_code"]) == (here(mover), CITY.code)
    assert (entry["procedure_code"], entry["item_codes"]) == (
        "copies.view",
        sorted([*INCOME_ITEMS, "tax.exemption_status"]),
    )


async def test_a_view_with_an_item_outside_the_role_is_refused_whole_and_logged(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(CITY, "hoken-001", "保険年金課")

    response = await view_copies(linkage, token, here(mover), ["nhi.enrollment", "tax.taxable_income"])

    assert (response.status_code, response.json()["code"]) == (403, "item_not_permitted_for_role")
    assert str(mover.taxable_income) not in response.text
    [entry] = (await linkage.access_log(CITY))["entries"]
    assert (entry["staff_id"], entry["outcome"]) == ("hoken-001", "refused:item_not_permitted_for_role")
    assert entry["item_codes"] == ["nhi.enrollment", "tax.taxable_income"]


async def test_staff_administrators_see_no_personal_data(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(CITY, "joho-001", "情報政策課", title="課長")

    response = await view_copies(linkage, token, here(mover), ["tax.taxable_income"])

    assert (response.status_code, response.json()["code"]) == (403, "item_not_permitted_for_role")


async def test_a_view_without_a_session_is_refused_and_reads_nothing(linkage: Linkage) -> None:
    mover = await linkage.move_resident()

    response = await view_copies(linkage, "not-a-session", here(mover), ["tax.taxable_income"])

    assert (response.status_code, response.json()["code"]) == (401, "staff_token_invalid")
    assert (await linkage.access_log(CITY))["entries"] == []  # nobody to log: no staff member was named
