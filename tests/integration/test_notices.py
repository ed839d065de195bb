"""お知らせ (OSR) over real HTTP between real processes: 東村山市's clerk sends the scenario's mover
a notice, which the mover reads in My Portal, sealed all the way through the broker."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import LiveNetwork

pytestmark = pytest.mark.integration


def test_clerk_sends_the_mover_a_notice_they_read_in_my_portal(live_network: LiveNetwork) -> None:
    report = live_network.report
    notice = {
        "address_number": report.address_numbers["higashimurayama"],
        "title": "児童手当の現況届のお願い",
        "body": "6月30日までに現況届を提出してください。",
    }
    with httpx.Client(trust_env=False, timeout=30.0) as http:
        assertion = http.post(
            f"{live_network.url('jlis')}/test-logins", json={"individual_number": report.mover["individual_number"]}
        ).json()["assertion"]
        session = http.post(f"{live_network.url('portal')}/api/session", json={"assertion": assertion}).json()
        sent = http.post(
            f"{live_network.url('higashimurayama-intermediate')}/notices",
            json=notice,
            headers={"Authorization": f"Bearer {report.staff_tokens['kosodate-001']}"},
        )
        shown = http.get(
            f"{live_network.url('portal')}/api/me/notices",
            headers={"Authorization": f"Bearer {session['session_token']}"},
        )

    assert sent.status_code == 201, sent.text
    [received] = [n for n in shown.json()["notices"] if n["notice_id"] == sent.json()["notice_id"]]
    assert (received["title"], received["body"]) == (notice["title"], notice["body"])
    assert received["sender"] == {"code": "132136", "name": "東村山市"}
    assert notice["body"] not in live_network.log_text("broker")
