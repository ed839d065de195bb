"""SCM contractor accounts (委託先): a contractor signs in as staff do, with the same lockout after
wrong passwords and the same answer for an unknown id, in sessions kept apart from staff's, and
changes its own password with the current one."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from municipality.intermediate.contractors.models import Contractor
from services.db import utc_now
from tests.unit.linkage_fixture import KODAIRA, OPERATOR, Linkage, bearer, stored_text

CITY = KODAIRA
CONTRACTOR = "gakushu-shien"
PASSWORD = "synthetic-contractor-password"
WRONG = "not-the-password-at-all"
NEW = "a-contractor-password-of-its-own"


async def post(linkage: Linkage, path: str, body: dict[str, str], headers: dict[str, str]) -> httpx.Response:
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        return await client.post(path, json=body, headers=headers)


async def enrol(linkage: Linkage) -> None:
    body = {"contractor_id": CONTRACTOR, "company": "株式会社まなび", "password": PASSWORD}
    response = await post(linkage, "/contractors", body, OPERATOR)
    assert response.status_code == 201, response.text


async def log_in(linkage: Linkage, password: str = PASSWORD, contractor_id: str = CONTRACTOR) -> httpx.Response:
    return await post(linkage, "/contractor/sessions", {"contractor_id": contractor_id, "password": password}, {})


async def signed_in(linkage: Linkage) -> str:
    response = await log_in(linkage)
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


async def change_password(linkage: Linkage, token: str, current: str, new: str) -> httpx.Response:
    body = {"current_password": current, "new_password": new}
    return await post(linkage, "/contractor/me/password", body, bearer(token))


async def still_signed_in(linkage: Linkage, token: str) -> bool:
    """Whether the token is still a session: signing out answers 204 only for one (and ends it)."""
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        response = await client.delete("/contractor/sessions/current", headers=bearer(token))
    return response.status_code == 204


def codes_of(responses: list[httpx.Response]) -> list[tuple[int, str]]:
    return [(response.status_code, response.json()["code"]) for response in responses]


async def test_a_contractors_password_and_token_are_stored_only_as_hashes(linkage: Linkage) -> None:
    await enrol(linkage)

    token = await signed_in(linkage)

    stored = await stored_text(linkage.database(CITY.intermediate_host))
    assert PASSWORD not in stored
    assert token not in stored
    assert "$argon2id$" in stored


async def test_unknown_contractor_id_and_wrong_password_get_the_same_answer(linkage: Linkage) -> None:
    await enrol(linkage)

    wrong_password = await log_in(linkage, WRONG)
    unknown_id = await log_in(linkage, WRONG, contractor_id="nobody-at-all")

    assert wrong_password.status_code == unknown_id.status_code == 401
    assert wrong_password.json() == unknown_id.json()
    assert wrong_password.json()["code"] == "contractor_login_failed"


async def test_five_wrong_passwords_lock_the_contractor_even_against_the_right_password(linkage: Linkage) -> None:
    await enrol(linkage)

    failures = [await log_in(linkage, WRONG) for _ in range(5)]
    right_password = await log_in(linkage)

    assert codes_of(failures) == [(401, "contractor_login_failed")] * 4 + [(403, "contractor_locked")]
    assert (right_password.status_code, right_password.json()["code"]) == (403, "contractor_locked")
    assert datetime.fromisoformat(right_password.json()["locked_until"]) > utc_now() + timedelta(minutes=14)


async def test_a_successful_sign_in_resets_the_contractors_count_of_wrong_passwords(linkage: Linkage) -> None:
    await enrol(linkage)

    first = [await log_in(linkage, WRONG) for _ in range(4)]
    success = await log_in(linkage)
    second = [await log_in(linkage, WRONG) for _ in range(4)]

    assert success.status_code == 201, success.text
    assert codes_of(first + second) == [(401, "contractor_login_failed")] * 8
    assert (await log_in(linkage)).status_code == 201


async def test_the_contractors_lock_lifts_when_the_lockout_period_is_over(linkage: Linkage) -> None:
    await enrol(linkage)
    for _ in range(5):
        await log_in(linkage, WRONG)

    async with linkage.database(CITY.intermediate_host).sessions() as session:  # as if the clock had run on
        await session.execute(update(Contractor).values(locked_until=utc_now() - timedelta(seconds=1)))
        await session.commit()
    response = await log_in(linkage)

    assert response.status_code == 201, response.text


async def test_a_contractors_lock_is_logged_as_staff_locks_are(
    linkage: Linkage, caplog: pytest.LogCaptureFixture
) -> None:
    await enrol(linkage)

    with caplog.at_level(logging.WARNING, logger="municipality.intermediate.sign_in"):
        for _ in range(5):
            await log_in(linkage, WRONG)

    [record] = [r for r in caplog.records if r.name == "municipality.intermediate.sign_in"]
    assert record.getMessage().startswith(f"contractor account {CONTRACTOR} locked until ")


async def test_a_contractor_changes_its_own_password_and_its_other_sessions_end(linkage: Linkage) -> None:
    await enrol(linkage)
    token, other = await signed_in(linkage), await signed_in(linkage)

    response = await change_password(linkage, token, PASSWORD, NEW)

    assert response.status_code == 204, response.text
    assert not await still_signed_in(linkage, other)
    assert await still_signed_in(linkage, token)
    assert (await log_in(linkage)).status_code == 401
    assert (await log_in(linkage, NEW)).status_code == 201


async def test_wrong_current_passwords_count_towards_the_contractors_lockout(linkage: Linkage) -> None:
    await enrol(linkage)
    token = await signed_in(linkage)
    for _ in range(3):
        await log_in(linkage, WRONG)

    wrong = [await change_password(linkage, token, WRONG, NEW) for _ in range(2)]
    right = await change_password(linkage, token, PASSWORD, NEW)
    sign_in = await log_in(linkage)

    assert codes_of(wrong) == [(403, "contractor_password_wrong"), (403, "contractor_locked")]
    assert codes_of([right, sign_in]) == [(403, "contractor_locked")] * 2


async def test_a_staff_token_does_not_change_a_contractors_password(linkage: Linkage) -> None:
    await enrol(linkage)
    staff = await linkage.staff_token(CITY, "kazei-001", "課税課")

    response = await change_password(linkage, staff, PASSWORD, NEW)

    assert (response.status_code, response.json()["code"]) == (401, "contractor_token_invalid")
    assert (await log_in(linkage)).status_code == 201


async def reset(
    linkage: Linkage, body: dict[str, str], headers: dict[str, str], contractor_id: str = CONTRACTOR
) -> httpx.Response:
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        return await client.put(f"/contractors/{contractor_id}/password", json=body, headers=headers)


async def test_an_administrators_reset_unlocks_a_contractor_and_ends_its_sessions(linkage: Linkage) -> None:
    await enrol(linkage)
    old_session = await signed_in(linkage)
    admin = await linkage.staff_token(CITY, "joho-001", "情報政策課")
    for _ in range(5):
        await log_in(linkage, WRONG)

    chosen = await reset(linkage, {"password": NEW}, bearer(admin))

    assert chosen.json() == {"contractor_id": CONTRACTOR, "initial_password": None}
    assert not await still_signed_in(linkage, old_session)
    assert (await log_in(linkage)).status_code == 401  # the old password is gone
    assert (await log_in(linkage, NEW)).status_code == 201
    generated = (await reset(linkage, {}, OPERATOR)).json()["initial_password"]
    assert (await log_in(linkage, generated)).status_code == 201


async def test_only_a_staff_administrator_resets_a_contractors_password(linkage: Linkage) -> None:
    await enrol(linkage)
    clerk = await linkage.staff_token(CITY, "kazei-001", "課税課")
    contractor = await signed_in(linkage)

    refused = [
        await reset(linkage, {"password": NEW}, bearer(clerk)),
        await reset(linkage, {"password": NEW}, bearer(contractor)),
        await reset(linkage, {"password": NEW}, OPERATOR, contractor_id="nobody-at-all"),
    ]

    assert codes_of(refused) == [
        (403, "staff_administration_not_permitted"),
        (401, "staff_token_invalid"),
        (404, "unknown_contractor"),
    ]
    assert (await log_in(linkage)).status_code == 201  # the password is unchanged
