"""SCM unusual-access alerts (rule 5): each rule fires on a scripted log that should raise it and
stays quiet on one that should not; alerts are stored once, listed and acknowledged by the
operator and 情報政策課, and counted on /metrics.

Entries are written by the real append function (`log_staff_access`) at chosen times: it stamps
each entry with the access-log module's clock, which the scenarios set, as a staff member's
day would have set it. Times are Asia/Tokyo: 2026-11-30 is a Monday.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from municipality.intermediate.access_log import service as access_log
from municipality.intermediate.access_log.service import AccessFacts, log_staff_access
from municipality.intermediate.alerts.schemas import AlertOut
from municipality.intermediate.alerts.service import evaluate_alerts
from municipality.intermediate.app import create_app
from municipality.intermediate.config import IntermediateSettings
from services.db import Database
from tests.support import OPERATOR_TOKEN, in_process_network, settings_kwargs

HOST = "intermediate.test"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
TOKYO = ZoneInfo("Asia/Tokyo")
KOSODATE = "子育て支援課"
PERSON = "100000000000001"  # an address number: the city's own number for a resident, not a My Number
OTHER_PERSON = "100000000000002"
PASSWORD = "synthetic-staff-password"


def tokyo(day: int, hour: int, minute: int = 0) -> datetime:
    """A time on 2026-11-`day` in Tokyo (30 = Monday, 28 = Saturday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)


class Town:
    """One intermediate server, alone, with scheduled evaluation off so that tests decide when."""

    def __init__(self, app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
        self.app, self.monkeypatch = app, monkeypatch

    @property
    def database(self) -> Database:
        database: Database = self.app.state.runtime.database
        return database

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=f"http://{HOST}")

    async def log(
        self,
        at: datetime,
        staff_id: str,
        address_number: str = PERSON,
        *,
        outcome: str = "read",
        department: str = KOSODATE,
        times: int = 1,
    ) -> None:
        """`times` accesses logged at `at`, through the real append function."""
        self.monkeypatch.setattr(access_log, "utc_now", lambda: at)
        facts = AccessFacts(staff_id, department, address_number, "child_allowance.certification", [], "132110")
        for _ in range(times):
            await log_staff_access(self.database, facts, outcome)

    async def evaluate(self) -> list[dict[str, Any]]:
        """The alerts an evaluation at the end of the scripted Monday raised or grew."""
        evaluation = await evaluate_alerts(self.database, self.app.state.alert_rules, now=tokyo(30, 23))
        return [AlertOut.model_validate(a, from_attributes=True).model_dump() for a in evaluation.alerts]

    async def staff_token(self, staff_id: str, department: str) -> str:
        async with self.client() as client:
            account = {"staff_id": staff_id, "department": department, "title": "担当", "password": PASSWORD}
            assert (await client.post("/staff", json=account, headers=OPERATOR)).status_code == 201
            signed_in = await client.post("/staff/sessions", json={"staff_id": staff_id, "password": PASSWORD})
        assert signed_in.status_code == 201, signed_in.text
        token: str = signed_in.json()["token"]
        return token


@pytest.fixture
async def town(tmp_path: Path, database_url_factory: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Town]:
    settings = IntermediateSettings(
        **settings_kwargs(tmp_path / HOST, database_url_factory("alerts")), alert_interval_seconds=0
    )
    async with in_process_network({HOST: lambda: create_app(settings)}) as network:
        yield Town(network.apps[HOST], monkeypatch)


def rules_of(alerts: list[dict[str, Any]]) -> list[str]:
    return sorted(alert["rule"] for alert in alerts)


# --- volume -------------------------------------------------------------------------------------


async def test_a_new_staff_member_over_the_floor_in_one_hour_raises_volume(town: Town) -> None:
    await town.log(tokyo(30, 10, 5), "kosodate-001", times=11)
    await town.log(tokyo(30, 10, 55), "kosodate-001", times=10)

    alerts = await town.evaluate()

    assert [(a["rule"], a["staff_id"], a["count"]) for a in alerts] == [("volume", "kosodate-001", 21)]


async def test_a_new_staff_member_at_the_floor_raises_nothing(town: Town) -> None:
    await town.log(tokyo(30, 10, 5), "kosodate-001", times=20)
    await town.log(tokyo(30, 11, 5), "kosodate-001", times=20)  # the next hour is a window of its own

    assert await town.evaluate() == []


async def test_volume_is_judged_against_the_staff_members_own_baseline(town: Town) -> None:
    """10 lookups an hour all last week: 25 now is normal for them (under 3 × 10), 31 is not."""
    for day in (23, 24, 25):
        await town.log(tokyo(day, 10), "kosodate-001", times=10)
    await town.log(tokyo(30, 10), "kosodate-001", times=25)
    assert await town.evaluate() == []

    await town.log(tokyo(30, 10, 30), "kosodate-001", times=6)

    [alert] = await town.evaluate()
    assert (alert["rule"], alert["count"]) == ("volume", 31)


# --- off_hours ----------------------------------------------------------------------------------


async def test_access_in_the_evening_or_at_the_weekend_raises_off_hours(town: Town) -> None:
    await town.log(tokyo(30, 18, 0), "kosodate-001")
    await town.log(tokyo(28, 11, 0), "kosodate-002")  # a Saturday morning

    alerts = await town.evaluate()

    assert sorted((a["rule"], a["staff_id"]) for a in alerts) == [
        ("off_hours", "kosodate-001"),
        ("off_hours", "kosodate-002"),
    ]


async def test_access_within_office_hours_raises_nothing(town: Town) -> None:
    await town.log(tokyo(30, 8, 30), "kosodate-001")
    await town.log(tokyo(30, 17, 59), "kosodate-001")

    assert await town.evaluate() == []


# --- outside_role -------------------------------------------------------------------------------


async def test_an_attempt_on_items_outside_the_role_raises_outside_role(town: Town) -> None:
    await town.log(tokyo(30, 10), "hoken-001", outcome="refused:item_not_permitted_for_role", department="保険年金課")

    [alert] = await town.evaluate()

    assert (alert["rule"], alert["staff_id"]) == ("outside_role", "hoken-001")


async def test_other_refusals_are_not_outside_the_role(town: Town) -> None:
    await town.log(tokyo(30, 10), "kosodate-001", outcome="refused:not_on_whitelist")
    await town.log(tokyo(30, 10), "kosodate-001", outcome="refused:unknown_address_number")

    assert await town.evaluate() == []


async def test_a_real_view_refused_for_the_role_raises_outside_role(town: Town) -> None:
    """By a real staff action: 課税課 asks to view the household, which its role does not grant."""
    token = await town.staff_token("kazei-001", "課税課")
    async with town.client() as client:
        refused = await client.get(
            "/views/copies",
            params={"address_number": PERSON, "item_codes": ["resident.household"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 403
        evaluated = await client.post("/alerts/evaluate", headers=OPERATOR)

    assert evaluated.status_code == 200, evaluated.text
    # Whether off_hours fires too depends on when the test runs; outside_role does not.
    [alert] = [a for a in evaluated.json()["alerts"] if a["rule"] == "outside_role"]
    assert (alert["staff_id"], alert["department"], alert["count"]) == ("kazei-001", "課税課", 1)


# --- many_staff_one_person ----------------------------------------------------------------------


async def test_one_person_looked_up_by_four_staff_in_a_day_raises_many_staff(town: Town) -> None:
    for hour, staff_id in enumerate(["kosodate-001", "kosodate-002", "kosodate-003", "hoken-001"], start=9):
        await town.log(tokyo(30, hour), staff_id)

    [alert] = await town.evaluate()

    assert alert["rule"] == "many_staff_one_person"
    assert alert["staff_id"] is None
    assert alert["address_number"] == PERSON
    assert alert["staff_ids"] == ["hoken-001", "kosodate-001", "kosodate-002", "kosodate-003"]


async def test_three_staff_or_four_on_different_days_raise_nothing(town: Town) -> None:
    for hour, staff_id in enumerate(["kosodate-001", "kosodate-002", "kosodate-003", "kosodate-001"], start=9):
        await town.log(tokyo(30, hour), staff_id)
    await town.log(tokyo(27, 10), "hoken-001")  # the Friday before: another day's window

    assert await town.evaluate() == []


# --- own_household ------------------------------------------------------------------------------


async def declare(town: Town, staff_id: str, *address_numbers: str) -> httpx.Response:
    async with town.client() as client:
        body = {"staff_id": staff_id, "address_numbers": list(address_numbers)}
        return await client.post("/staff-households", json=body, headers=OPERATOR)


async def test_looking_up_ones_own_household_raises_own_household(town: Town) -> None:
    await town.staff_token("kosodate-001", KOSODATE)
    declared = await declare(town, "kosodate-001", PERSON)
    assert declared.status_code == 201, declared.text
    assert [h["address_number"] for h in declared.json()] == [PERSON]

    await town.log(tokyo(30, 10), "kosodate-001", PERSON)
    [alert] = await town.evaluate()

    assert (alert["rule"], alert["staff_id"], alert["address_number"]) == ("own_household", "kosodate-001", PERSON)


async def test_looking_up_another_household_or_anothers_household_raises_nothing(town: Town) -> None:
    await town.staff_token("kosodate-001", KOSODATE)
    assert (await declare(town, "kosodate-001", PERSON)).status_code == 201

    await town.log(tokyo(30, 10), "kosodate-001", OTHER_PERSON)
    await town.log(tokyo(30, 11), "kosodate-002", PERSON)  # someone else's household, not theirs

    assert await town.evaluate() == []


async def test_a_household_is_declared_only_for_an_existing_account_by_the_operator(town: Town) -> None:
    token = await town.staff_token("jouhou-001", "情報政策課")
    unknown = await declare(town, "nobody-001", PERSON)
    async with town.client() as client:
        by_staff = await client.post(
            "/staff-households",
            json={"staff_id": "jouhou-001", "address_numbers": [PERSON]},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_staff")
    assert (by_staff.status_code, by_staff.json()["code"]) == (401, "operator_token_invalid")


# --- storing once, listing, acknowledging, metrics ------------------------------------------------


async def test_re_evaluation_stores_each_alert_once_and_later_entries_join_it(town: Town) -> None:
    await town.log(tokyo(30, 20, 0), "kosodate-001")
    assert rules_of(await town.evaluate()) == ["off_hours"]
    assert await town.evaluate() == []

    await town.log(tokyo(30, 20, 30), "kosodate-001")  # same window: the alert grows
    [grown] = await town.evaluate()

    async with town.client() as client:
        listed = (await client.get("/alerts", headers=OPERATOR)).json()
    assert (grown["rule"], grown["count"]) == ("off_hours", 2)
    assert [(a["rule"], a["count"], len(a["seqs"])) for a in listed] == [("off_hours", 2, 2)]


async def scrape(town: Town) -> dict[str, float]:
    async with town.client() as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for line in response.text.splitlines():
        if line.startswith("mynumber_access_alerts"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


async def test_information_policy_staff_list_and_acknowledge_alerts_and_metrics_follow(town: Town) -> None:
    await town.log(tokyo(30, 21), "kosodate-001")  # off_hours
    await town.log(tokyo(30, 10), "hoken-001", outcome="refused:item_not_permitted_for_role", department="保険年金課")
    await town.evaluate()
    token = await town.staff_token("jouhou-001", "情報政策課")
    staff = {"Authorization": f"Bearer {token}"}

    before = await scrape(town)
    async with town.client() as client:
        listed = (await client.get("/alerts", params={"status": "open"}, headers=staff)).json()
        [outside_role] = [a for a in listed if a["rule"] == "outside_role"]
        acknowledged = await client.post(f"/alerts/{outside_role['alert_id']}/acknowledgement", headers=staff)
        again = await client.post(f"/alerts/{outside_role['alert_id']}/acknowledgement", headers=OPERATOR)
        still_open = (await client.get("/alerts", params={"status": "open"}, headers=staff)).json()
        by_rule = (await client.get("/alerts", params={"rule": "outside_role"}, headers=OPERATOR)).json()
    after = await scrape(town)

    assert rules_of(listed) == ["off_hours", "outside_role"]
    assert acknowledged.status_code == 200
    assert (acknowledged.json()["status"], acknowledged.json()["acknowledged_by"]) == ("acknowledged", "jouhou-001")
    assert (again.status_code, again.json()["code"]) == (409, "alert_already_acknowledged")
    assert rules_of(still_open) == ["off_hours"]
    assert [a["status"] for a in by_rule] == ["acknowledged"]
    assert before['mynumber_access_alerts_open{rule="outside_role"}'] == 1
    assert after['mynumber_access_alerts_open{rule="outside_role"}'] == 0
    assert after['mynumber_access_alerts_open{rule="off_hours"}'] == 1
    assert after['mynumber_access_alerts_open{rule="volume"}'] == 0
    assert after['mynumber_access_alerts_total{rule="outside_role"}'] == 1


async def test_staff_of_other_departments_may_not_see_or_evaluate_alerts(town: Town) -> None:
    token = await town.staff_token("kosodate-001", KOSODATE)
    staff = {"Authorization": f"Bearer {token}"}
    async with town.client() as client:
        listed = await client.get("/alerts", headers=staff)
        acknowledged = await client.post("/alerts/1/acknowledgement", headers=staff)
        evaluated = await client.post("/alerts/evaluate", headers=staff)
        anonymous = await client.get("/alerts")

    assert (listed.status_code, listed.json()["code"]) == (403, "staff_administration_not_permitted")
    assert acknowledged.status_code == 403
    assert (evaluated.status_code, evaluated.json()["code"]) == (401, "operator_token_invalid")
    assert anonymous.status_code == 401


async def test_acknowledging_an_unknown_alert_is_404(town: Town) -> None:
    async with town.client() as client:
        response = await client.post("/alerts/999/acknowledgement", headers=OPERATOR)
    assert (response.status_code, response.json()["code"]) == (404, "unknown_alert")
