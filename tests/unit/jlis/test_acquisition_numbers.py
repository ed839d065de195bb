"""Acquisition numbers: issued only to a city for its own residents, redeemed once by the broker."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from services.keys import public_key_from_b64
from tests.support import InProcessNetwork
from tests.unit.jlis.network import BROKER, HIGASHIMURAYAMA, JLIS, KODAIRA, issue_numbers, problem_code

TEST_LOGIN_ENABLED = pytest.mark.parametrize("jlis_options", [{"test_login_enabled": True}], ids=["test-login"])
TICKETS_EXPIRE_AT_ONCE = pytest.mark.parametrize("jlis_options", [{"acquisition_number_ttl_seconds": 0}], ids=["ttl-0"])


async def acquisition_numbers(network: InProcessNetwork, individual_numbers: list[str]) -> list[str]:
    """Tickets 小平市 gets for its residents."""
    async with network.client_for(JLIS, signed_as=KODAIRA) as kodaira:
        response = await kodaira.post("/acquisition-numbers", json={"individual_numbers": individual_numbers})
    response.raise_for_status()
    tickets: list[str] = response.json()["acquisition_numbers"]
    return tickets


async def redeem(
    network: InProcessNetwork, tickets: list[str], *, signed_as: str = BROKER, for_institution: str = "132110"
) -> httpx.Response:
    """The broker redeems tickets presented by `for_institution` (小平市 unless said otherwise)."""
    body = {"for_institution": for_institution, "acquisition_numbers": tickets}
    async with network.client_for(JLIS, signed_as=signed_as) as client:
        return await client.post("/acquisition-numbers/redeem", json=body)


async def test_city_gets_acquisition_numbers_for_its_own_residents_only(network: InProcessNetwork) -> None:
    async with network.client_for(JLIS, signed_as=KODAIRA) as kodaira:
        issued = (await kodaira.post("/individual-numbers", json={"resident_codes": ["12345678901"]})).json()
        number = issued["numbers"][0]["individual_number"]
        own = await kodaira.post("/acquisition-numbers", json={"individual_numbers": [number]})
    async with network.client_for(JLIS, signed_as=HIGASHIMURAYAMA) as stranger:
        foreign = await stranger.post("/acquisition-numbers", json={"individual_numbers": [number]})
    assert own.status_code == 200
    assert len(own.json()["acquisition_numbers"][0]) == 32
    assert foreign.status_code == 403
    assert foreign.json()["code"] == "not_a_resident"


async def test_acquisition_number_reveals_neither_the_number_nor_the_resident_code(
    network: InProcessNetwork,
) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    first, second = await acquisition_numbers(network, [number, number])
    assert first != second
    for ticket in (first, second):
        assert number not in ticket
        assert "12345678901" not in ticket


async def test_number_with_a_wrong_check_digit_gets_no_acquisition_number(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    mistyped = number[:11] + str((int(number[11]) + 1) % 10)
    async with network.client_for(JLIS, signed_as=KODAIRA) as kodaira:
        response = await kodaira.post("/acquisition-numbers", json={"individual_numbers": [mistyped]})
    assert response.status_code == 400
    assert problem_code(response) == "individual_number_invalid"


async def test_broker_redeems_an_acquisition_number_once(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    [ticket] = await acquisition_numbers(network, [number])
    first = await redeem(network, [ticket])
    second = await redeem(network, [ticket])
    assert first.status_code == 200
    [person] = first.json()["persons"]
    assert person["acquisition_number"] == ticket
    assert person["for_institution"] == "132110"
    assert number not in person["person_serial"]
    assert second.status_code == 404
    assert problem_code(second) == "acquisition_number_used_or_expired"


async def test_two_acquisition_numbers_for_one_person_redeem_to_the_same_serial(network: InProcessNetwork) -> None:
    numbers = await issue_numbers(network, ["12345678901", "22222222222"])
    tickets = await acquisition_numbers(network, [numbers[0], numbers[1], numbers[0]])
    response = await redeem(network, tickets)
    serials = [person["person_serial"] for person in response.json()["persons"]]
    assert serials[0] == serials[2] != serials[1]


async def test_unknown_acquisition_number_is_refused(network: InProcessNetwork) -> None:
    response = await redeem(network, ["0123456789abcdef0123456789abcdef"])
    assert response.status_code == 404
    assert problem_code(response) == "unknown_acquisition_number"


async def test_refused_batch_redeems_none_of_its_acquisition_numbers(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    [ticket] = await acquisition_numbers(network, [number])
    refused = await redeem(network, [ticket, "0123456789abcdef0123456789abcdef"])
    retried = await redeem(network, [ticket])
    assert refused.status_code == 404
    assert refused.json()["index"] == 1
    assert retried.status_code == 200


@TICKETS_EXPIRE_AT_ONCE
async def test_expired_acquisition_number_is_refused(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    [ticket] = await acquisition_numbers(network, [number])
    response = await redeem(network, [ticket])
    assert response.status_code == 404
    assert problem_code(response) == "acquisition_number_used_or_expired"


async def test_city_may_not_redeem_an_acquisition_number(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    [ticket] = await acquisition_numbers(network, [number])
    by_city = await redeem(network, [ticket], signed_as=KODAIRA)
    by_broker = await redeem(network, [ticket])
    assert by_city.status_code == 403
    assert problem_code(by_city) == "caller_not_permitted"
    assert by_broker.status_code == 200, "the city's refused attempt does not use the ticket up"


async def test_test_login_is_disabled_by_default(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as browser:
        response = await browser.post("/test-logins", json={"individual_number": number})
    assert response.status_code == 404
    assert problem_code(response) == "test_login_disabled"


async def jlis_public_key_b64(network: InProcessNetwork) -> str:
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as anyone:
        institution = (await anyone.get("/.well-known/institution")).json()
    key: str = institution["signing_public_key"]
    return key


@TEST_LOGIN_ENABLED
async def test_test_login_asserts_an_acquisition_number_to_the_portal_not_the_individual_number(
    network: InProcessNetwork,
) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as browser:
        response = await browser.post("/test-logins", json={"individual_number": number})
    assert response.status_code == 200
    token = response.json()["assertion"]
    public_key = public_key_from_b64(await jlis_public_key_b64(network))
    claims: dict[str, Any] = jwt.decode(token, public_key, algorithms=["EdDSA"], audience="portal")
    assert claims["iss"] == "jlis.jlis"
    assert len(claims["acquisition_number"]) == 32
    assert number not in token
    assert number not in str(claims)
    assert "12345678901" not in str(claims)
    [person] = (await redeem(network, [claims["acquisition_number"]], for_institution="portal")).json()["persons"]
    assert person["for_institution"] == "portal"


@TEST_LOGIN_ENABLED
async def test_test_login_assertion_is_not_for_any_audience_but_the_portal(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["12345678901"])
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as browser:
        token = (await browser.post("/test-logins", json={"individual_number": number})).json()["assertion"]
    public_key = public_key_from_b64(await jlis_public_key_b64(network))
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, public_key, algorithms=["EdDSA"], audience="132110")


@TEST_LOGIN_ENABLED
async def test_test_login_for_a_number_nobody_holds_is_refused(network: InProcessNetwork) -> None:
    async with httpx.AsyncClient(transport=network.transport, base_url=f"http://{JLIS}") as browser:
        response = await browser.post("/test-logins", json={"individual_number": "621498320257"})
    assert response.status_code == 404
    assert problem_code(response) == "unknown_individual_number"


async def test_another_institutions_ticket_is_refused_and_not_used_up(network: InProcessNetwork) -> None:
    [number] = await issue_numbers(network, ["22345678901"])
    [ticket] = await acquisition_numbers(network, [number])
    stolen = await redeem(network, [ticket], for_institution="132136")
    rightful = await redeem(network, [ticket])
    assert stolen.status_code == 403
    assert problem_code(stolen) == "acquisition_number_not_yours"
    assert rightful.status_code == 200
