"""番号変更 over the real network: after a person's number changes, the linkage still works for
them, the old number is refused everywhere, and their records from before and after are theirs."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from devnet.population import synthetic_residents
from devnet.scenario import CHILD_ALLOWANCE, INCOME_ITEMS
from services.keys import load_or_create_keys
from services.signing import RequestSigner
from tests.integration.conftest import LiveNetwork
from tests.support import OPERATOR_TOKEN

pytestmark = pytest.mark.integration
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def test_linkage_survives_a_number_change_and_the_old_number_is_refused(live_network: LiveNetwork) -> None:
    url = live_network.url
    [person] = synthetic_residents(1, 424242, "東京都", "小平市")
    http = httpx.Client(timeout=30, trust_env=False)
    _ok(http.post(f"{url('kodaira-city')}/residents", json={"residents": [person]}, headers=OPERATOR))
    tax = {"resident_code": person["resident_code"], "tax_year": date.today().year - 1}
    assessment = {**tax, "taxable_income": 3_141_592, "income_levy": 314_159}
    _ok(http.post(f"{url('kodaira-city')}/tax/assessments", json={"assessments": [assessment]}, headers=OPERATOR))
    moved = dict(person, moved_in_from="132110")
    [registered] = _ok(
        http.post(f"{url('higashimurayama-city')}/residents", json={"residents": [moved]}, headers=OPERATOR)
    )["residents"]
    staff = {"Authorization": f"Bearer {live_network.report.staff_tokens['kosodate-001']}"}
    query = {
        "address_number": registered["address_number"],
        "procedure_code": CHILD_ALLOWANCE,
        "provider_code": "132110",
        "item_codes": INCOME_ITEMS,
    }
    before = _ok(http.post(f"{url('higashimurayama-intermediate')}/queries", json=query, headers=staff))

    change = _ok(
        http.post(
            f"{url('higashimurayama-city')}/number-changes",
            json={"resident_code": person["resident_code"], "reason": "leaked"},
            headers=OPERATOR,
        )
    )
    old_number, new_number = registered["individual_number"], change["individual_number"]
    after = _ok(http.post(f"{url('higashimurayama-intermediate')}/queries", json=query, headers=staff))

    keys = load_or_create_keys(live_network.data_dir("higashimurayama-city") / "keys", "132136.city")
    with httpx.Client(auth=RequestSigner(keys), trust_env=False) as city:
        old_ticket = city.post(f"{url('jlis')}/acquisition-numbers", json={"individual_numbers": [old_number]})
    old_login = http.post(f"{url('jlis')}/test-logins", json={"individual_number": old_number})
    assertion = _ok(http.post(f"{url('jlis')}/test-logins", json={"individual_number": new_number}))["assertion"]
    session = _ok(http.post(f"{url('portal')}/api/session", json={"assertion": assertion}))
    records = _ok(
        http.get(
            f"{url('portal')}/api/me/provision-records",
            headers={"Authorization": f"Bearer {session['session_token']}"},
        )
    )["records"]

    assert new_number != old_number
    assert before["items"] == after["items"]
    assert (old_ticket.status_code, old_ticket.json()["code"]) == (403, "number_revoked")
    assert (old_login.status_code, old_login.json()["code"]) == (403, "number_revoked")
    assert {r["query_id"] for r in records} >= {before["query_id"], after["query_id"]}
