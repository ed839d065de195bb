"""SCM staff accounts and sessions: an account has a department and a title and signs in with a
password kept only as an argon2 hash; a session token lasts a short while; wrong passwords in a
row lock the account; sign-in does not tell which staff ids exist; a member changes their own
password with the current one."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from municipality.intermediate.staff.models import StaffMember, StaffSession
from services.db import utc_now
from tests.support import OPERATOR_TOKEN
from tests.unit.linkage_fixture import HIGASHIMURAYAMA, OPERATOR, STAFF_PASSWORD, Linkage, bearer, stored_text

CITY = HIGASHIMURAYAMA
WRONG = "not-the-password-at-all"
NEW = "a-password-of-my-own"


async def get(linkage: Linkage, path: str, token: str) -> httpx.Response:
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        return await client.get(path, headers=bearer(token))


async def log_out(linkage: Linkage, token: str) -> httpx.Response:
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        return await client.delete("/staff/sessions/current", headers=bearer(token))


async def reset_password(linkage: Linkage, staff_id: str, token: str, body: dict[str, Any]) -> httpx.Response:
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        return await client.put(f"/staff/{staff_id}/password", json=body, headers=bearer(token))


async def time_passes(linkage: Linkage, model: type[StaffMember] | type[StaffSession], **values: Any) -> None:
    """Move a stored deadline into the past, as if the clock had run on (no sleeping in tests)."""
    async with linkage.database(CITY.intermediate_host).sessions() as session:
        await session.execute(update(model).values(**values))
        await session.commit()


async def change_password(linkage: Linkage, token: str | None, current: str, new: str) -> httpx.Response:
    body = {"current_password": current, "new_password": new}
    async with linkage.network.client_for(CITY.intermediate_host) as client:
        return await client.post("/staff/me/password", json=body, headers=bearer(token) if token else {})


def codes_of(responses: list[httpx.Response]) -> list[tuple[int, str]]:
    return [(response.status_code, response.json()["code"]) for response in responses]


async def test_staff_member_signs_in_with_the_password_and_gets_a_short_lived_token(linkage: Linkage) -> None:
    created = await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課", title="主査")
    before = utc_now()

    response = await linkage.log_in(CITY, "kosodate-001")

    assert created.status_code == 201, created.text
    assert created.json()["initial_password"] is None  # chosen by the administrator, never echoed
    assert response.status_code == 201, response.text
    session = response.json()
    expires_at = datetime.fromisoformat(session["expires_at"])
    assert before + timedelta(minutes=15) <= expires_at <= utc_now() + timedelta(minutes=15)
    current = await get(linkage, "/staff/sessions/current", session["token"])
    assert current.status_code == 200, current.text
    assert current.json()["staff"] == {
        "staff_id": "kosodate-001",
        "department": "子育て支援課",
        "title": "主査",
        "created_at": created.json()["created_at"],
    }


async def test_password_and_session_token_are_stored_only_as_hashes(linkage: Linkage) -> None:
    token = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")

    stored = await stored_text(linkage.database(CITY.intermediate_host))

    assert STAFF_PASSWORD not in stored
    assert token not in stored
    assert "$argon2id$" in stored


async def test_unknown_staff_id_and_wrong_password_get_the_same_answer(linkage: Linkage) -> None:
    await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課")

    wrong_password = await linkage.log_in(CITY, "kosodate-001", WRONG)
    unknown_id = await linkage.log_in(CITY, "kosodate-999", WRONG)

    assert wrong_password.status_code == unknown_id.status_code == 401
    assert wrong_password.json() == unknown_id.json()
    assert wrong_password.json()["code"] == "staff_login_failed"


async def test_five_wrong_passwords_lock_the_account_even_against_the_right_password(linkage: Linkage) -> None:
    await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課")

    failures = [await linkage.log_in(CITY, "kosodate-001", WRONG) for _ in range(5)]
    right_password = await linkage.log_in(CITY, "kosodate-001")

    assert codes_of(failures) == [(401, "staff_login_failed")] * 4 + [(403, "staff_locked")]
    assert (right_password.status_code, right_password.json()["code"]) == (403, "staff_locked")
    assert datetime.fromisoformat(right_password.json()["locked_until"]) > utc_now() + timedelta(minutes=14)


async def test_guesses_sent_at_once_cannot_outrun_the_lock_and_a_right_one_among_them_does_not_lift_it(
    linkage: Linkage,
) -> None:
    await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課")

    burst = await asyncio.gather(
        *(linkage.log_in(CITY, "kosodate-001", WRONG) for _ in range(6)), linkage.log_in(CITY, "kosodate-001")
    )
    after = await linkage.log_in(CITY, "kosodate-001")

    assert sum(r.status_code == 401 for r in burst[:6]) <= 4  # the fifth wrong attempt counted locks
    assert (after.status_code, after.json()["code"]) == (403, "staff_locked")


async def test_a_successful_sign_in_resets_the_count_of_wrong_passwords(linkage: Linkage) -> None:
    await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課")

    first = [await linkage.log_in(CITY, "kosodate-001", WRONG) for _ in range(4)]
    success = await linkage.log_in(CITY, "kosodate-001")
    second = [await linkage.log_in(CITY, "kosodate-001", WRONG) for _ in range(4)]

    assert success.status_code == 201, success.text
    assert codes_of(first + second) == [(401, "staff_login_failed")] * 8
    assert (await linkage.log_in(CITY, "kosodate-001")).status_code == 201


async def test_the_lock_lifts_when_the_lockout_period_is_over(linkage: Linkage) -> None:
    await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課")
    for _ in range(5):
        await linkage.log_in(CITY, "kosodate-001", WRONG)

    await time_passes(linkage, StaffMember, locked_until=utc_now() - timedelta(seconds=1))
    response = await linkage.log_in(CITY, "kosodate-001")

    assert response.status_code == 201, response.text


async def test_an_expired_session_token_is_refused_as_expired(linkage: Linkage) -> None:
    mover = await linkage.move_resident()
    token = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")

    await time_passes(linkage, StaffSession, expires_at=utc_now() - timedelta(seconds=1))
    response = await linkage.staff_query(CITY, token, mover.address_numbers["higashimurayama"])

    assert (response.status_code, response.json()["code"]) == (401, "staff_token_expired")
    assert await linkage.provision_records() == []


async def test_a_signed_out_token_is_refused(linkage: Linkage) -> None:
    token = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")

    signed_out = await log_out(linkage, token)
    response = await get(linkage, "/staff/sessions/current", token)

    assert signed_out.status_code == 204
    assert (response.status_code, response.json()["code"]) == (401, "staff_token_invalid")


async def test_a_password_shorter_than_twelve_characters_is_refused(linkage: Linkage) -> None:
    response = await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課", password="short-pass1")

    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")
    assert (await linkage.log_in(CITY, "kosodate-001", "short-pass1")).status_code == 401


async def test_a_title_other_than_chief_senior_or_staff_is_refused(linkage: Linkage) -> None:
    response = await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課", title="部長")

    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")


async def test_a_generated_initial_password_is_shown_once_and_signs_in(linkage: Linkage) -> None:
    created = await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課", password=None)
    password = created.json()["initial_password"]

    response = await linkage.log_in(CITY, "kosodate-001", password)

    assert created.status_code == 201, created.text
    assert len(password) >= 12
    assert response.status_code == 201, response.text
    assert password not in await stored_text(linkage.database(CITY.intermediate_host))


async def test_a_staff_id_is_never_given_twice(linkage: Linkage) -> None:
    await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課")

    response = await linkage.enrol_staff(CITY, "kosodate-001", "生活福祉課", password="another-password-entirely")

    assert (response.status_code, response.json()["code"]) == (409, "staff_exists")
    token = (await linkage.log_in(CITY, "kosodate-001")).json()["token"]
    assert (await get(linkage, "/staff/sessions/current", token)).json()["staff"]["department"] == "子育て支援課"


async def test_information_policy_administrator_creates_accounts_and_others_may_not(linkage: Linkage) -> None:
    admin = await linkage.staff_token(CITY, "joho-001", "情報政策課", title="主査")
    clerk = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")

    by_admin = await linkage.enrol_staff(CITY, "hoken-001", "保険年金課", headers=bearer(admin))
    by_clerk = await linkage.enrol_staff(CITY, "hoken-002", "保険年金課", headers=bearer(clerk))

    assert by_admin.status_code == 201, by_admin.text
    assert (await linkage.log_in(CITY, "hoken-001")).status_code == 201
    assert (by_clerk.status_code, by_clerk.json()["code"]) == (403, "staff_administration_not_permitted")
    assert (await linkage.log_in(CITY, "hoken-002")).status_code == 401


async def test_an_administrator_can_neither_make_nor_take_over_an_account_that_decides_approvals(
    linkage: Linkage,
) -> None:
    """Else 情報政策課 could make a 課長 (or reset the deputy's password) and approve its own requests."""
    admin = await linkage.staff_token(CITY, "joho-001", "情報政策課", title="主査")
    await linkage.staff_token(CITY, "kazei-chief", "課税課", title="課長")
    await linkage.staff_token(CITY, "kazei-shusa", "課税課", title="主査")
    await linkage.staff_token(CITY, "kazei-002", "課税課", title="主査")
    async with linkage.network.client_for(CITY.intermediate_host) as city:
        named = await city.put("/departments/課税課/deputy", json={"staff_id": "kazei-shusa"}, headers=OPERATOR)
    assert named.status_code == 200, named.text

    refused = [
        await linkage.enrol_staff(CITY, "joho-chief", "情報政策課", title="課長", headers=bearer(admin)),
        await linkage.enrol_staff(CITY, "hoken-chief", "保険年金課", title="課長", headers=bearer(admin)),
        await reset_password(linkage, "kazei-chief", admin, {"password": "taken-over-chief"}),
        await reset_password(linkage, "kazei-shusa", admin, {"password": "taken-over-deputy"}),
    ]
    allowed = [
        await linkage.enrol_staff(CITY, "kazei-003", "課税課", title="主査", headers=bearer(admin)),
        await reset_password(linkage, "kazei-002", admin, {"password": "a-senior-who-is-no-deputy"}),
        await reset_password(linkage, "kazei-chief", OPERATOR_TOKEN, {"password": "reset-by-the-operator"}),
        await linkage.enrol_staff(CITY, "joho-chief", "情報政策課", title="課長"),  # by the operator
    ]

    assert codes_of(refused) == [(403, "approver_account_needs_operator")] * 4
    assert [r.status_code for r in allowed] == [201, 200, 200, 201], [r.text for r in allowed]
    assert (await linkage.log_in(CITY, "kazei-shusa")).status_code == 201  # its password is unchanged
    assert (await linkage.log_in(CITY, "kazei-chief", "reset-by-the-operator")).status_code == 201


async def test_a_password_reset_unlocks_the_account_and_ends_its_sessions(linkage: Linkage) -> None:
    admin = await linkage.staff_token(CITY, "joho-001", "情報政策課")
    old_session = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")
    for _ in range(5):
        await linkage.log_in(CITY, "kosodate-001", WRONG)

    reset = await reset_password(linkage, "kosodate-001", admin, {"password": "a-brand-new-password"})

    assert reset.status_code == 200, reset.text
    assert (await get(linkage, "/staff/sessions/current", old_session)).json()["code"] == "staff_token_invalid"
    assert (await linkage.log_in(CITY, "kosodate-001")).status_code == 401  # the old password is gone
    assert (await linkage.log_in(CITY, "kosodate-001", "a-brand-new-password")).status_code == 201


async def test_a_lock_is_logged_for_the_operator(linkage: Linkage, caplog: pytest.LogCaptureFixture) -> None:
    await linkage.enrol_staff(CITY, "kosodate-001", "子育て支援課")

    with caplog.at_level(logging.WARNING, logger="municipality.intermediate.sign_in"):
        for _ in range(5):
            await linkage.log_in(CITY, "kosodate-001", WRONG)

    [record] = [r for r in caplog.records if r.name == "municipality.intermediate.sign_in"]
    assert record.getMessage().startswith("staff account kosodate-001 locked until ")
    assert WRONG not in caplog.text


async def test_a_member_changes_their_own_password_and_their_other_sessions_end(linkage: Linkage) -> None:
    token = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")
    other = (await linkage.log_in(CITY, "kosodate-001")).json()["token"]

    response = await change_password(linkage, token, STAFF_PASSWORD, NEW)

    assert response.status_code == 204, response.text
    assert (await get(linkage, "/staff/sessions/current", token)).status_code == 200  # this session goes on
    assert (await get(linkage, "/staff/sessions/current", other)).json()["code"] == "staff_token_invalid"
    assert (await linkage.log_in(CITY, "kosodate-001")).status_code == 401  # the old password is gone
    assert (await linkage.log_in(CITY, "kosodate-001", NEW)).status_code == 201
    assert NEW not in await stored_text(linkage.database(CITY.intermediate_host))


async def test_a_wrong_current_password_is_refused_and_changes_nothing(linkage: Linkage) -> None:
    token = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")
    other = (await linkage.log_in(CITY, "kosodate-001")).json()["token"]

    response = await change_password(linkage, token, WRONG, NEW)

    assert (response.status_code, response.json()["code"]) == (403, "staff_password_wrong")
    assert (await get(linkage, "/staff/sessions/current", other)).status_code == 200
    assert (await linkage.log_in(CITY, "kosodate-001", NEW)).status_code == 401
    assert (await linkage.log_in(CITY, "kosodate-001")).status_code == 201


async def test_wrong_current_passwords_count_towards_the_lockout_with_wrong_sign_ins(linkage: Linkage) -> None:
    token = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")
    for _ in range(3):
        await linkage.log_in(CITY, "kosodate-001", WRONG)

    wrong = [await change_password(linkage, token, WRONG, NEW) for _ in range(2)]
    right = await change_password(linkage, token, STAFF_PASSWORD, NEW)
    sign_in = await linkage.log_in(CITY, "kosodate-001")

    assert codes_of(wrong) == [(403, "staff_password_wrong"), (403, "staff_locked")]
    assert codes_of([right, sign_in]) == [(403, "staff_locked")] * 2
    assert (await get(linkage, "/staff/sessions/current", token)).status_code == 200  # the lock stops guessing only


async def test_a_password_change_resets_the_count_of_wrong_passwords(linkage: Linkage) -> None:
    token = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")
    first = [await linkage.log_in(CITY, "kosodate-001", WRONG) for _ in range(4)]

    changed = await change_password(linkage, token, STAFF_PASSWORD, NEW)
    second = [await linkage.log_in(CITY, "kosodate-001", WRONG) for _ in range(4)]

    assert changed.status_code == 204, changed.text
    assert codes_of(first + second) == [(401, "staff_login_failed")] * 8


async def test_a_new_password_shorter_than_twelve_characters_is_refused_on_change(linkage: Linkage) -> None:
    token = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")

    response = await change_password(linkage, token, STAFF_PASSWORD, "short-pass1")

    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")
    assert (await linkage.log_in(CITY, "kosodate-001")).status_code == 201


async def test_a_password_change_needs_a_session_that_has_not_expired(linkage: Linkage) -> None:
    token = await linkage.staff_token(CITY, "kosodate-001", "子育て支援課")
    await time_passes(linkage, StaffSession, expires_at=utc_now() - timedelta(seconds=1))

    expired = await change_password(linkage, token, STAFF_PASSWORD, NEW)
    anonymous = await change_password(linkage, None, STAFF_PASSWORD, NEW)

    assert codes_of([expired, anonymous]) == [(401, "staff_token_expired"), (401, "bearer_token_missing")]
    assert (await linkage.log_in(CITY, "kosodate-001")).status_code == 201


async def test_no_staff_account_takes_the_name_the_operator_acts_under(linkage: Linkage) -> None:
    """Approvals and records name the operator `operator`; a staff member by that name could use
    anyone's approval as the operator may."""
    response = await linkage.enrol_staff(CITY, "operator", "情報政策課")

    assert (response.status_code, response.json()["code"]) == (400, "reserved_staff_id")
    assert (await linkage.log_in(CITY, "operator")).status_code == 401
