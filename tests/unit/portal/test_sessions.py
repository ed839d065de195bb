"""My Portal login: only a fresh J-LIS assertion opens a session, and a session sees only its
own person's records."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.app import create_app as create_broker
from broker.config import BrokerSettings
from jlis.app import create_app as create_jlis
from jlis.config import JlisSettings
from municipality.city.app import create_app as create_city
from municipality.city.config import CitySettings
from portal.app import create_app as create_portal
from portal.config import PortalSettings
from tests.support import InProcessNetwork, in_process_network, settings_kwargs


@pytest.fixture
async def network(tmp_path: Path, database_url_factory: Callable[[str], str]) -> AsyncIterator[InProcessNetwork]:
    def settings(label: str) -> dict[str, Any]:
        return settings_kwargs(tmp_path / label, database_url_factory(label), broker_url="http://broker.test")

    factories: dict[str, Callable[[], object]] = {
        "jlis.test": lambda: create_jlis(JlisSettings(**settings("jlis"), test_login_enabled=True)),
        "broker.test": lambda: create_broker(BrokerSettings(**settings("broker"), jlis_url="http://jlis.test")),
        "portal.test": lambda: create_portal(PortalSettings(**settings("portal"))),
        "city.test": lambda: create_city(CitySettings(**settings("city"), municipality_code="132110")),
    }
    async with in_process_network(factories) as network:  # type: ignore[arg-type]
        yield network


async def _individual_number(network: InProcessNetwork, resident_code: str) -> str:
    async with network.client_for("jlis.test", signed_as="city.test") as city:
        response = await city.post("/individual-numbers", json={"resident_codes": [resident_code]})
    number: str = response.json()["numbers"][0]["individual_number"]
    return number


async def _login(network: InProcessNetwork, individual_number: str) -> str:
    async with network.client_for("jlis.test") as jlis, network.client_for("portal.test") as portal:
        assertion = (await jlis.post("/test-logins", json={"individual_number": individual_number})).json()
        session = await portal.post("/api/session", json={"assertion": assertion["assertion"]})
    assert session.status_code == 201
    token: str = session.json()["session_token"]
    return token


async def test_resident_logs_in_with_a_jlis_assertion_and_sees_an_empty_record_list(
    network: InProcessNetwork,
) -> None:
    token = await _login(network, await _individual_number(network, "12345678901"))
    async with network.client_for("portal.test") as portal:
        records = await portal.get("/api/me/provision-records", headers={"Authorization": f"Bearer {token}"})
    assert records.status_code == 200
    assert records.json() == {"records": []}


def _assertion(key: Ed25519PrivateKey, issued_at: datetime, kid: str | None = "jlis.jlis") -> str:
    claims = {
        "iss": "jlis.jlis",
        "aud": "portal",
        "iat": issued_at,
        "exp": issued_at + timedelta(minutes=5),
        "acquisition_number": "0" * 32,
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid} if kid else None)


@pytest.mark.parametrize("case", ["signed by another key", "expired", "naming no key", "naming another's key"])
async def test_portal_refuses_an_assertion_that_is_forged_or_expired(network: InProcessNetwork, case: str) -> None:
    if case == "expired":
        assertion = _assertion(network.runtime("jlis.test").keys.signing_key, datetime.now(UTC) - timedelta(hours=1))
    elif case == "naming no key":
        assertion = _assertion(network.runtime("jlis.test").keys.signing_key, datetime.now(UTC), kid=None)
    elif case == "naming another's key":  # the broker's key signs, and the assertion says so
        broker = network.runtime("broker.test").keys
        assertion = _assertion(broker.signing_key, datetime.now(UTC), kid=broker.key_id)
    else:
        assertion = _assertion(Ed25519PrivateKey.generate(), datetime.now(UTC))
    async with network.client_for("portal.test") as portal:
        response = await portal.post("/api/session", json={"assertion": assertion})
    assert response.status_code == 401
    assert response.json()["code"] == "assertion_invalid"


async def test_an_assertion_logs_in_only_once(network: InProcessNetwork) -> None:
    number = await _individual_number(network, "12345678902")
    async with network.client_for("jlis.test") as jlis, network.client_for("portal.test") as portal:
        assertion = (await jlis.post("/test-logins", json={"individual_number": number})).json()["assertion"]
        first = await portal.post("/api/session", json={"assertion": assertion})
        second = await portal.post("/api/session", json={"assertion": assertion})
    assert first.status_code == 201
    assert second.status_code == 401
    assert second.json()["code"] == "assertion_used"


async def test_records_need_a_valid_session(network: InProcessNetwork) -> None:
    async with network.client_for("portal.test") as portal:
        missing = await portal.get("/api/me/provision-records")
        wrong = await portal.get("/api/me/provision-records", headers={"Authorization": "Bearer nope"})
    assert (missing.status_code, missing.json()["code"]) == (401, "bearer_token_missing")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "session_invalid")
