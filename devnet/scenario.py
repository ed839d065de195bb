"""The linkage scenario, end to end over HTTP (shared by `make demo` and the integration tests).

A resident who lived in 小平市 last year has moved to 東村山市. 東村山市's child-allowance
staff ask, through the broker, for last year's income from 小平市's copies under 児童手当の認定.
Then the refusals: off the whitelist, outside the staff role, a city that holds nothing on the
person. Finally the resident logs in to My Portal, with J-LIS's test login and then with an
individual number card issued at the counter, and sees who received their data.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from devnet.card import AUTH_KEY, AUTH_PUBLIC_KEY, SIGN_PUBLIC_KEY, card_login, generate_card_keys, load_card_key
from devnet.population import synthetic_income, synthetic_residents

CITIES = {  # compose service prefix → (code, prefecture, name); 小平市 first: the mover lived there
    "kodaira": ("132110", "東京都", "小平市"),
    "higashimurayama": ("132136", "東京都", "東村山市"),
    "tokorozawa": ("112089", "埼玉県", "所沢市"),
}
CHILD_ALLOWANCE = "child_allowance.certification"
INCOME_ITEMS = ["tax.income_levy", "tax.taxable_income"]


@dataclass
class Step:
    name: str
    method: str
    url: str
    status: int
    body: Any


@dataclass
class LinkageReport:
    mover: dict[str, Any]
    mover_income: tuple[int, int]
    tax_year: int
    address_numbers: dict[str, str]
    staff_tokens: dict[str, str]  # staff id → a session token at 東村山市, fresh when the scenario ends
    steps: dict[str, Step] = field(default_factory=dict)
    staff_passwords: dict[str, str] = field(default_factory=dict)  # to sign in again (generated, synthetic)


class ScenarioClient:
    """Records every call so the demo can print it and tests can assert on it."""

    def __init__(self, urls: Mapping[str, str], operator_token: str) -> None:
        self.urls = urls
        self.operator_token = operator_token
        self.http = httpx.Client(timeout=60.0, trust_env=False)

    def call(
        self,
        report: LinkageReport | None,
        name: str,
        method: str,
        service: str,
        path: str,
        token: str | None = None,
        json: Any = None,
    ) -> Step:
        url = f"{self.urls[service]}{path}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, url, json=json, headers=headers)
        body = response.json() if response.content else None
        step = Step(name, method, url, response.status_code, body)
        if report is not None:
            report.steps[name] = step
        return step

    def expect_ok(self, step: Step) -> Any:
        if step.status >= 400:
            raise RuntimeError(f"{step.name}: {step.method} {step.url} → {step.status} {step.body}")
        return step.body


def run_linkage_scenario(
    urls: Mapping[str, str], operator_token: str, *, seed: int = 1, residents_per_city: int = 20
) -> LinkageReport:
    client = ScenarioClient(urls, operator_token)
    op = operator_token
    tax_year = date.today().year - 1
    [mover] = synthetic_residents(1, seed * 1000, "東京都", "小平市")
    report = LinkageReport(
        mover=mover, mover_income=synthetic_income(seed), tax_year=tax_year, address_numbers={}, staff_tokens={}
    )

    for offset, (slug, (_code, prefecture, city)) in enumerate(CITIES.items()):
        people = synthetic_residents(residents_per_city, seed * 100 + offset, prefecture, city)
        if slug == "kodaira":
            people.append(mover)
        elif slug == "higashimurayama":
            new_address = synthetic_residents(1, seed * 1000 + 1, prefecture, city)[0]["address"]
            moved_in = dict(mover, address=new_address, moved_in_from=CITIES["kodaira"][0])
            people.append(moved_in)
        step = client.call(
            report, f"register residents in {city}", "POST", f"{slug}-city", "/residents", op, {"residents": people}
        )
        for registered in client.expect_ok(step)["residents"]:
            if registered["resident_code"] == mover["resident_code"]:
                report.address_numbers[slug] = registered["address_number"]
                report.mover["individual_number"] = registered["individual_number"]
        if slug == "kodaira":
            assessments = [
                {
                    "resident_code": p["resident_code"],
                    "tax_year": tax_year,
                    "taxable_income": income,
                    "income_levy": levy,
                }
                for index, p in enumerate(people)
                for income, levy in [report.mover_income if p is mover else synthetic_income(seed * 7 + index)]
            ]
            client.expect_ok(
                client.call(
                    report,
                    "register 小平市 tax copies",
                    "POST",
                    "kodaira-city",
                    "/tax/assessments",
                    op,
                    {"assessments": assessments},
                )
            )

    # SCM: the operator creates 東村山市's first staff administrator (情報政策課); the administrator
    # creates the department staff. Each password is generated and shown once; each member signs in
    # for a short-lived session token.
    def create_staff(staff_id: str, department: str, title: str, token: str) -> None:
        account = {"staff_id": staff_id, "department": department, "title": title}
        step = client.call(
            report, f"create staff account {staff_id}", "POST", "higashimurayama-intermediate", "/staff", token, account
        )
        report.staff_passwords[staff_id] = client.expect_ok(step)["initial_password"]

    def sign_in(staff_id: str, name: str) -> None:
        credentials = {"staff_id": staff_id, "password": report.staff_passwords[staff_id]}
        step = client.call(report, name, "POST", "higashimurayama-intermediate", "/staff/sessions", None, credentials)
        report.staff_tokens[staff_id] = client.expect_ok(step)["token"]

    create_staff("joho-001", "情報政策課", "主査", op)
    sign_in("joho-001", "joho-001 signs in")
    for staff_id, department in (("kosodate-001", "子育て支援課"), ("hoken-001", "保険年金課")):
        create_staff(staff_id, department, "担当", report.staff_tokens["joho-001"])
        sign_in(staff_id, f"{staff_id} signs in")

    def query(name: str, staff_id: str, procedure: str, provider: str, items: list[str]) -> Step:
        return client.call(
            report,
            name,
            "POST",
            "higashimurayama-intermediate",
            "/queries",
            report.staff_tokens[staff_id],
            {
                "address_number": report.address_numbers["higashimurayama"],
                "procedure_code": procedure,
                "provider_code": provider,
                "item_codes": items,
            },
        )

    client.expect_ok(
        query(
            "query 小平市 income for child allowance",
            "kosodate-001",
            CHILD_ALLOWANCE,
            CITIES["kodaira"][0],
            INCOME_ITEMS,
        )
    )
    query(
        "refused: procedure not on the whitelist",
        "kosodate-001",
        "child_medical_subsidy.certification",
        CITIES["kodaira"][0],
        INCOME_ITEMS,
    )
    query("refused: item outside the staff role", "hoken-001", CHILD_ALLOWANCE, CITIES["kodaira"][0], INCOME_ITEMS)
    query(
        "refused: provider holds no symbol for the person",
        "kosodate-001",
        CHILD_ALLOWANCE,
        CITIES["tokorozawa"][0],
        INCOME_ITEMS,
    )

    login = client.expect_ok(
        client.call(
            report,
            "J-LIS test login",
            "POST",
            "jlis",
            "/test-logins",
            None,
            {"individual_number": report.mover["individual_number"]},
        )
    )
    session = client.expect_ok(
        client.call(report, "portal session", "POST", "portal", "/api/session", None, {"assertion": login["assertion"]})
    )
    client.expect_ok(
        client.call(
            report, "portal provision records", "GET", "portal", "/api/me/provision-records", session["session_token"]
        )
    )

    # The real login: a card from 東村山市's counter, and a challenge signed by its key.
    with tempfile.TemporaryDirectory() as card_dir:
        pin = f"{secrets.randbelow(10**4):04d}"
        paths = generate_card_keys(Path(card_dir), pin)
        application = {
            "resident_code": mover["resident_code"],
            "auth_public_key_pem": paths[AUTH_PUBLIC_KEY].read_text(),
            "signing_public_key_pem": paths[SIGN_PUBLIC_KEY].read_text(),
        }
        counter = "/cards"
        step = client.call(report, "card issued at the 東村山市 counter", "POST", "higashimurayama-city", counter, op,
                           application)  # fmt: skip
        card = client.expect_ok(step)
        key = load_card_key(paths[AUTH_KEY], pin)
        card_session = asyncio.run(card_login(urls["jlis"], urls["portal"], key, card["auth_certificate_pem"]))
    step = client.call(report, "portal provision records (card login)", "GET", "portal",
                       "/api/me/provision-records", card_session)  # fmt: skip
    client.expect_ok(step)
    client.expect_ok(client.call(report, "broker provision records", "GET", "broker", "/provision-records", op))
    client.expect_ok(
        client.call(report, "東村山市 staff access log", "GET", "higashimurayama-intermediate", "/access-log", op)
    )
    # Fresh sessions, so that the tokens handed to the walkthrough last their whole lifetime from here.
    for staff_id in report.staff_tokens:
        sign_in(staff_id, f"{staff_id} signs in again")
    client.http.close()
    return report


def ask_for_income_again(http: httpx.Client, urls: Mapping[str, str], report: LinkageReport) -> httpx.Response:
    """The scenario's query once more: 東村山市's 子育て支援課 clerk asks 小平市 for the mover's
    income under 児童手当の認定 (as a drill does to see the network still answers)."""
    query = {
        "address_number": report.address_numbers["higashimurayama"],
        "procedure_code": CHILD_ALLOWANCE,
        "provider_code": CITIES["kodaira"][0],
        "item_codes": INCOME_ITEMS,
    }
    headers = {"Authorization": f"Bearer {report.staff_tokens['kosodate-001']}"}
    return http.post(f"{urls['higashimurayama-intermediate']}/queries", json=query, headers=headers)
