"""SCM staff roles: staff see only the items their department's role grants under a procedure
(rule 6); the check is made before anything leaves the city, and the refusal is logged."""

from __future__ import annotations

from tests.unit.linkage_fixture import CHILD_ALLOWANCE, HIGASHIMURAYAMA, INCOME_ITEMS, KODAIRA, Linkage, bearer


async def test_insurance_staff_may_not_see_tax_items_under_child_allowance(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "hoken-001", "保険年金課")

    response = await linkage.staff_query(HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"])

    assert response.status_code == 403
    assert response.json()["code"] == "item_not_permitted_for_role"
    [entry] = (await linkage.access_log(HIGASHIMURAYAMA))["entries"]
    assert entry["outcome"] == "refused:item_not_permitted_for_role"
    assert (entry["staff_id"], entry["department"]) == ("hoken-001", "保険年金課")
    assert (entry["procedure_code"], entry["item_codes"]) == (CHILD_ALLOWANCE, sorted(INCOME_ITEMS))
    assert await linkage.provision_records() == []  # refused inside the city: the broker never saw it


async def test_insurance_staff_see_income_under_their_own_procedure(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "hoken-001", "保険年金課")

    response = await linkage.staff_query(
        HIGASHIMURAYAMA, token, mover.address_numbers["higashimurayama"], procedure="nhi.premium_assessment"
    )

    assert response.status_code == 200, response.text
    assert response.json()["whitelist_row"] == "R003"
    assert {item["item_code"]: item["value"] for item in response.json()["items"]} == {
        "tax.taxable_income": mover.taxable_income,
        "tax.income_levy": mover.income_levy,
    }


async def test_query_with_a_bad_staff_token_is_refused_unauthenticated(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")

    response = await linkage.staff_query(HIGASHIMURAYAMA, "not-a-real-token", mover.address_numbers["higashimurayama"])

    assert response.status_code == 401
    assert response.json()["code"] == "staff_token_invalid"
    assert await linkage.provision_records() == []


async def test_staff_token_of_one_city_is_not_valid_at_another(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")

    response = await linkage.staff_query(KODAIRA, token, mover.address_numbers["kodaira"], provider=HIGASHIMURAYAMA)

    assert response.status_code == 401
    assert response.json()["code"] == "staff_token_invalid"


async def test_enrolling_staff_in_an_unknown_department_is_refused(linkage: Linkage) -> None:
    response = await linkage.enrol_staff(HIGASHIMURAYAMA, "someone-001", "秘密調査課")

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_department"


async def test_enrolling_staff_without_the_operator_token_is_refused(linkage: Linkage) -> None:
    response = await linkage.enrol_staff(HIGASHIMURAYAMA, "kosodate-002", "子育て支援課", headers=bearer("guess"))

    assert response.status_code == 401
    assert response.json()["code"] == "staff_token_invalid"  # neither the operator's token nor a session's
