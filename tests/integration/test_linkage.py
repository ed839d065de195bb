"""The skeleton's linkage over real HTTP between real processes: the answer, each refusal with
its status and code, the provision records and the staff access log."""

from __future__ import annotations

import secrets

import httpx
import pytest

from devnet.scenario import CHILD_ALLOWANCE, INCOME_ITEMS
from services.keys import load_or_create_keys
from services.signing import RequestSigner
from tests.integration.conftest import LiveNetwork
from tests.support import OPERATOR_TOKEN

pytestmark = pytest.mark.integration

ANSWER = "query 小平市 income for child allowance"


def test_child_allowance_staff_receive_last_years_income_from_previous_city(live_network: LiveNetwork) -> None:
    step = live_network.report.steps[ANSWER]
    income, levy = live_network.report.mover_income
    assert step.status == 200
    values = {item["item_code"]: (item["value"], item["period"]) for item in step.body["items"]}
    assert values == {
        "tax.taxable_income": (income, str(live_network.report.tax_year)),
        "tax.income_levy": (levy, str(live_network.report.tax_year)),
    }
    assert step.body["provider_code"] == "132110"
    assert step.body["whitelist_row"] == "R001"
    assert step.body["missing_items"] == []


@pytest.mark.parametrize(
    ("step_name", "status", "code"),
    [
        ("refused: procedure not on the whitelist", 403, "not_on_whitelist"),
        ("refused: item outside the staff role", 403, "item_not_permitted_for_role"),
        ("refused: provider holds no symbol for the person", 404, "no_symbol_at_provider"),
    ],
)
def test_scenario_refusals_are_problem_json_with_stable_codes(
    live_network: LiveNetwork, step_name: str, status: int, code: str
) -> None:
    step = live_network.report.steps[step_name]
    assert (step.status, step.body["code"]) == (status, code)
    assert step.body["type"].endswith(code)
    assert "detail" in step.body


def _sign_as_higashimurayama_intermediate(live_network: LiveNetwork) -> RequestSigner:
    keys = load_or_create_keys(live_network.data_dir("higashimurayama-intermediate") / "keys", "132136.intermediate")
    return RequestSigner(keys)


def test_broker_refuses_unknown_symbol_with_404_and_records_it(live_network: LiveNetwork) -> None:
    unknown = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32))
    query = {
        "requester_symbol": unknown,
        "procedure_code": CHILD_ALLOWANCE,
        "provider_code": "132110",
        "item_codes": INCOME_ITEMS,
    }
    with httpx.Client(auth=_sign_as_higashimurayama_intermediate(live_network), trust_env=False) as client:
        response = client.post(f"{live_network.url('broker')}/queries", json=query)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unknown_symbol"
    records = httpx.get(
        f"{live_network.url('broker')}/provision-records",
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        trust_env=False,
    ).json()
    assert any(r["outcome_code"] == "unknown_symbol" and r["provider_symbol"] is None for r in records)


def test_broker_refuses_unsigned_query_with_401(live_network: LiveNetwork) -> None:
    response = httpx.post(f"{live_network.url('broker')}/queries", json={}, trust_env=False)
    assert response.status_code == 401
    assert response.json()["code"] == "signature_missing"


def test_broker_records_every_query_with_outcome_and_no_content(live_network: LiveNetwork) -> None:
    records = live_network.report.steps["broker provision records"].body
    outcomes = {(r["procedure_code"], r["provider_code"], r["outcome"], r["outcome_code"]) for r in records}
    assert (CHILD_ALLOWANCE, "132110", "provided", "provided") in outcomes
    assert ("child_medical_subsidy.certification", "132110", "refused", "not_on_whitelist") in outcomes
    assert (CHILD_ALLOWANCE, "112089", "refused", "no_symbol_at_provider") in outcomes
    provided = next(r for r in records if r["outcome"] == "provided")
    assert provided["requester_code"] == "132136"
    assert sorted(provided["item_codes"]) == sorted(INCOME_ITEMS)
    assert set(provided) >= {"requested_at", "provider_symbol", "whitelist_version"}
    assert not {"value", "values", "items", "ciphertext"} & set(provided)


def test_resident_sees_who_received_their_data_in_my_portal(live_network: LiveNetwork) -> None:
    records = live_network.report.steps["portal provision records"].body["records"]
    provided = [r for r in records if r["outcome"] == "provided"]
    assert len(provided) == 1
    assert provided[0]["requester"] == {"code": "132136", "name": "東村山市"}
    assert provided[0]["provider"] == {"code": "132110", "name": "小平市"}
    assert provided[0]["procedure"]["name"] == "児童手当の認定"
    assert {item["name"] for item in provided[0]["items"]} == {
        "総所得金額等（地方税関係情報）",
        "所得割額（地方税関係情報）",
    }
    assert {r["outcome_code"] for r in records} >= {"not_on_whitelist", "no_symbol_at_provider"}
    assert all("symbol" not in key for record in records for key in record)


def test_every_staff_read_and_refusal_is_in_the_access_log(live_network: LiveNetwork) -> None:
    log = live_network.report.steps["東村山市 staff access log"].body
    address_number = live_network.report.address_numbers["higashimurayama"]
    entries = {(e["staff_id"], e["department"], e["procedure_code"], e["outcome"]) for e in log["entries"]}
    assert ("kosodate-001", "子育て支援課", CHILD_ALLOWANCE, "read") in entries
    assert ("hoken-001", "保険年金課", CHILD_ALLOWANCE, "refused:item_not_permitted_for_role") in entries
    assert (
        "kosodate-001",
        "子育て支援課",
        "child_medical_subsidy.certification",
        "refused:not_on_whitelist",
    ) in entries
    assert all(e["address_number"] == address_number for e in log["entries"])
    assert log["intact"] is True


def test_resident_logs_in_with_the_card_from_the_counter_and_sees_the_same_records(live_network: LiveNetwork) -> None:
    card = live_network.report.steps["card issued at the 東村山市 counter"]
    by_card = live_network.report.steps["portal provision records (card login)"].body["records"]
    by_test_login = live_network.report.steps["portal provision records"].body["records"]
    assert card.status == 201
    assert "BEGIN CERTIFICATE" in card.body["auth_certificate_pem"]
    assert {r["query_id"] for r in by_card} == {r["query_id"] for r in by_test_login}
    assert by_card
