"""Issue 4's number rules: bad items reported one by one (or the whole batch refused when asked),
only a person's own city may issue, look up or change their number, a move must be notified,
and a changed number is refused everywhere while the person stays the same."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.x509 import ocsp
from sqlalchemy import select

from jlis.numbers.models import IndividualNumber, NumberOperation
from tests.support import InProcessNetwork
from tests.unit.jlis.card_support import authority, certificate, new_card, ocsp_request_for, ocsp_status
from tests.unit.jlis.network import BROKER, HIGASHIMURAYAMA, JLIS, KODAIRA, issue_numbers, problem_code

BAD_CODES = {
    "１２３４５６７８９０１": "full-width digits",
    " 12345678901": "leading space",
    "1234567890": "10 digits",
    "123456789012": "12 digits",
    "": "empty",
    "1234567890a": "a letter",
}


async def post(network: InProcessNetwork, path: str, body: dict[str, Any], *, as_: str = KODAIRA) -> httpx.Response:
    async with network.client_for(JLIS, signed_as=as_) as client:
        return await client.post(path, json=body)


async def test_batch_issues_valid_items_and_reports_each_invalid_one(network: InProcessNetwork) -> None:
    codes = ["12345678901", *BAD_CODES, "22345678901"]
    response = await post(network, "/individual-numbers", {"resident_codes": codes})
    body = response.json()
    assert response.status_code == 200
    assert body["all_or_nothing"] is False
    assert [n["index"] for n in body["numbers"]] == [0, len(codes) - 1]
    assert [r["index"] for r in body["rejected"]] == list(range(1, len(codes) - 1))
    assert {r["code"] for r in body["rejected"]} == {"resident_code_malformed"}
    assert all(r["reason"] for r in body["rejected"])


async def test_all_or_nothing_batch_with_one_bad_item_issues_nothing(network: InProcessNetwork) -> None:
    response = await post(
        network, "/individual-numbers", {"resident_codes": ["12345678901", "１２３"], "all_or_nothing": True}
    )
    assert (response.status_code, problem_code(response)) == (400, "batch_rejected")
    assert [r["index"] for r in response.json()["rejected"]] == [1]
    async with network.runtime(JLIS).database.sessions() as session:
        assert (await session.scalars(select(IndividualNumber))).all() == []


async def test_another_citys_resident_is_refused_until_the_move_is_notified(network: InProcessNetwork) -> None:
    await issue_numbers(network, ["12345678901"])
    refused = await post(network, "/individual-numbers", {"resident_codes": ["12345678901"]}, as_=HIGASHIMURAYAMA)
    wrong_origin = await post(
        network,
        "/residence-transfers",
        {"transfers": [{"resident_code": "12345678901", "from_municipality": "112089"}]},
        as_=HIGASHIMURAYAMA,
    )
    assert refused.json()["numbers"] == []
    assert refused.json()["rejected"][0]["code"] == "not_your_resident"
    assert (wrong_origin.status_code, problem_code(wrong_origin)) == (409, "moved_from_elsewhere")


async def test_only_the_current_city_may_look_up_a_number_and_every_lookup_is_logged(
    network: InProcessNetwork,
) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    own = await post(network, "/individual-numbers/lookup", {"resident_code": "12345678901"})
    other = await post(network, "/individual-numbers/lookup", {"resident_code": "12345678901"}, as_=HIGASHIMURAYAMA)
    broker = await post(network, "/individual-numbers/lookup", {"resident_code": "12345678901"}, as_=BROKER)
    assert own.json()["individual_number"] == number
    assert (other.status_code, problem_code(other)) == (403, "not_your_resident")
    assert (broker.status_code, problem_code(broker)) == (403, "caller_not_permitted")
    async with network.runtime(JLIS).database.sessions() as session:
        lookups = (await session.scalars(select(NumberOperation).where(NumberOperation.operation == "lookup"))).all()
    assert [(op.caller, op.outcome) for op in lookups] == [
        ("132110.city", "answered"),
        ("132136.city", "refused:not_your_resident"),
    ]


@pytest.mark.parametrize("reason", ["leaked", "resident_request"])
async def test_changed_number_is_new_and_the_old_one_is_refused_with_number_revoked(
    network: InProcessNetwork, reason: str
) -> None:
    [old] = await issue_numbers(network, ["12345678901"])
    changed = await post(network, "/individual-numbers/changes", {"individual_number": old, "reason": reason})
    new = changed.json()["individual_number"]
    again = await issue_numbers(network, ["12345678901"])
    old_ticket = await post(network, "/acquisition-numbers", {"individual_numbers": [old]})
    new_ticket = await post(network, "/acquisition-numbers", {"individual_numbers": [new]})
    assert changed.status_code == 200
    assert new != old and len(new) == 12
    assert again == [new]
    assert (old_ticket.status_code, problem_code(old_ticket)) == (403, "number_revoked")
    assert new_ticket.status_code == 200
    async with network.runtime(JLIS).database.sessions() as session:
        history = {n.number: n for n in (await session.scalars(select(IndividualNumber))).all()}
    assert history[old].status == "revoked" and history[old].revocation_reason == reason
    assert history[old].revoked_at is not None
    assert history[old].person_serial == history[new].person_serial


async def test_only_the_current_city_may_change_a_number_and_only_once(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    stranger = await post(
        network, "/individual-numbers/changes", {"individual_number": number, "reason": "leaked"}, as_=HIGASHIMURAYAMA
    )
    first = await post(network, "/individual-numbers/changes", {"individual_number": number, "reason": "leaked"})
    second = await post(network, "/individual-numbers/changes", {"individual_number": number, "reason": "leaked"})
    assert (stranger.status_code, problem_code(stranger)) == (403, "not_your_resident")
    assert first.status_code == 200
    assert (second.status_code, problem_code(second)) == (403, "number_revoked")


@pytest.mark.parametrize("jlis_options", [{"test_login_enabled": True}])
async def test_old_number_cannot_log_in_to_the_portal(network: InProcessNetwork) -> None:
    [old] = await issue_numbers(network, ["12345678901"])
    await post(network, "/individual-numbers/changes", {"individual_number": old, "reason": "leaked"})
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as browser:
        response = await browser.post("/test-logins", json={"individual_number": old})
    assert (response.status_code, problem_code(response)) == (403, "number_revoked")


async def test_number_change_revokes_the_card_certificates(network: InProcessNetwork) -> None:
    [old] = await issue_numbers(network, ["12345678901"])
    card = await new_card(network, old)
    changed = await post(network, "/individual-numbers/changes", {"individual_number": old, "reason": "leaked"})
    issuing = authority(network).issuing_certificate
    assert changed.json()["certificates_revoked"] == 2
    for pem in (card.auth_certificate_pem, card.signing_certificate_pem):
        _, answer = await ocsp_status(network, ocsp_request_for(certificate(pem), issuing))
        assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
        assert answer.revocation_reason == x509.ReasonFlags.affiliation_changed
