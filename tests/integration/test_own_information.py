"""自己情報提供 (JTK) over real HTTP between real processes: the scenario's mover logs in to My
Portal and sees last year's income as 小平市 holds it, and the request is among their records."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import LiveNetwork

pytestmark = pytest.mark.integration


def test_resident_sees_in_my_portal_the_income_a_former_city_holds_about_them(live_network: LiveNetwork) -> None:
    report = live_network.report
    with httpx.Client(trust_env=False, timeout=30.0) as http:
        assertion = http.post(
            f"{live_network.url('jlis')}/test-logins", json={"individual_number": report.mover["individual_number"]}
        ).json()["assertion"]
        session = http.post(f"{live_network.url('portal')}/api/session", json={"assertion": assertion}).json()
        resident = {"Authorization": f"Bearer {session['session_token']}"}
        shown = http.get(
            f"{live_network.url('portal')}/api/me/own-information", params={"institution": "132110"}, headers=resident
        )
        records = http.get(f"{live_network.url('portal')}/api/me/provision-records", headers=resident).json()["records"]

    assert shown.status_code == 200, shown.text
    income, levy = report.mover_income
    values = {item["item_code"]: (item["value"], item["period"]) for item in shown.json()["items"]}
    assert values["tax.taxable_income"] == (income, str(report.tax_year))
    assert values["tax.income_levy"] == (levy, str(report.tax_year))
    [record] = [r for r in records if r["query_id"] == shown.json()["query_id"]]
    assert (record["requester"]["name"], record["provider"]["name"]) == ("マイナポータル", "小平市")
    assert (record["procedure"]["name"], record["outcome"]) == ("自己情報提供", "provided")
