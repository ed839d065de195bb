"""A service's own key generations (鍵の更新): generation 1 where it always was, the next prepared
by the operator with an activation time, signing switching to it at that time without a restart
(in every replica sharing the key dir), and answers sealed to any held generation still opening.

Activation is judged by a clock the test sets; nothing sleeps.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey
from sqlalchemy import MetaData

from services.app import ServiceIdentity, create_service_app
from services.db import utc_now
from services.keys import NextKeyPending, ServiceKeys, b64, load_or_create_keys
from services.sealing import open_sealed_json, seal_json
from services.settings import ServiceSettings
from services.signing import RequestSigner
from tests.support import OPERATOR_TOKEN, StaticDirectory

KEY_ID = "139999.intermediate"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@dataclass
class Clock:
    at: datetime = field(default_factory=utc_now)

    def now(self) -> datetime:
        return self.at


def keys_at(key_dir: Path, clock: Clock) -> ServiceKeys:
    return ServiceKeys(key_dir, KEY_ID, now=clock.now)


def signed_key_id(keys: ServiceKeys) -> str:
    request = httpx.Request("POST", "http://broker.test/queries", json={"probe": 1})
    next(RequestSigner(keys).auth_flow(request))
    found = re.search(r'^mn=\(.*\);.*keyid="([^"]+)"', request.headers["signature-input"])
    assert found is not None
    return found.group(1)


def test_generation_one_stays_where_it_was_under_the_components_key_id(tmp_path: Path) -> None:
    keys = load_or_create_keys(tmp_path / "keys", KEY_ID)

    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["encryption.x25519", "signing.ed25519"]
    assert (keys.key_id, keys.current().generation, keys.current().activates_at) == (KEY_ID, 1, None)
    assert keys.enrolled == keys.current()
    again = load_or_create_keys(tmp_path / "keys", KEY_ID)
    assert again.signing_public_b64() == keys.signing_public_b64()
    assert again.encryption_public_b64() == keys.encryption_public_b64()
    assert signed_key_id(keys) == KEY_ID


def test_the_next_generation_signs_from_its_activation_time(tmp_path: Path) -> None:
    clock = Clock()
    keys = keys_at(tmp_path / "keys", clock)
    activates_at = clock.at + timedelta(hours=1)

    prepared = keys.prepare_next(activates_at)

    assert (prepared.key_id, prepared.generation, prepared.activates_at) == (f"{KEY_ID}.v2", 2, activates_at)
    assert prepared.signing_public_b64() != keys.enrolled.signing_public_b64()
    record = json.loads((tmp_path / "keys" / "v2" / "generation.json").read_text())
    assert record == {"key_id": f"{KEY_ID}.v2", "generation": 2, "activates_at": activates_at.isoformat()}
    assert [g.key_id for g in keys.generations()] == [KEY_ID, f"{KEY_ID}.v2"]

    clock.at = activates_at - timedelta(seconds=1)
    assert (keys.key_id, signed_key_id(keys)) == (KEY_ID, KEY_ID)

    clock.at = activates_at
    assert (keys.key_id, signed_key_id(keys)) == (f"{KEY_ID}.v2", f"{KEY_ID}.v2")
    assert keys.signing_public_b64() == prepared.signing_public_b64()
    assert keys.encryption_public_b64() == prepared.encryption_public_b64()
    assert keys.enrolled.key_id == KEY_ID


def test_a_replica_sharing_the_key_dir_switches_without_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    replica_a, replica_b = keys_at(tmp_path / "keys", clock), keys_at(tmp_path / "keys", clock)
    signer_b = RequestSigner(replica_b)
    assert signed_key_id(replica_b) == KEY_ID

    prepared = replica_a.prepare_next(clock.at + timedelta(minutes=5))
    clock.at += timedelta(minutes=5)

    request = httpx.Request("GET", "http://broker.test/registry")
    next(signer_b.auth_flow(request))  # the same signer object the replica's client has held all along
    assert f'keyid="{prepared.key_id}"' in request.headers["signature-input"]
    assert replica_b.current().signing_public_b64() == prepared.signing_public_b64()


def test_a_next_key_cannot_be_prepared_while_one_is_pending(tmp_path: Path) -> None:
    clock = Clock()
    keys = keys_at(tmp_path / "keys", clock)
    other_replica = keys_at(tmp_path / "keys", clock)
    keys.prepare_next(clock.at + timedelta(hours=1))

    with pytest.raises(NextKeyPending):
        keys.prepare_next(clock.at + timedelta(hours=2))
    with pytest.raises(NextKeyPending):
        other_replica.prepare_next(clock.at + timedelta(hours=2))

    clock.at += timedelta(hours=1)
    third = other_replica.prepare_next(clock.at + timedelta(hours=1))
    assert third.key_id == f"{KEY_ID}.v3"
    assert [g.generation for g in keys.generations()] == [1, 2, 3]
    assert not any(p.name.startswith(".") for p in (tmp_path / "keys").iterdir())  # no staging left over


def test_activation_time_needs_a_timezone(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        load_or_create_keys(tmp_path / "keys", KEY_ID).prepare_next(datetime(2030, 1, 1))


def test_answers_sealed_to_any_held_generation_open(tmp_path: Path) -> None:
    clock = Clock()
    keys = keys_at(tmp_path / "keys", clock)
    sealed_to_first = seal_json({"answer": 1}, keys.encryption_public_b64())
    prepared = keys.prepare_next(clock.at)
    sealed_to_second = seal_json({"answer": 2}, prepared.encryption_public_b64())

    assert keys.key_id == prepared.key_id
    assert open_sealed_json(sealed_to_first, keys) == {"answer": 1}  # sealed during the overlap
    assert open_sealed_json(sealed_to_second, keys) == {"answer": 2}
    assert open_sealed_json(sealed_to_second, keys.encryption_key) == {"answer": 2}
    with pytest.raises(CryptoError):
        open_sealed_json(seal_json({"answer": 3}, b64(bytes(PrivateKey.generate().public_key))), keys)


# --- the operator endpoint every service has ----------------------------------------------------


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'service.db'}",
        operator_token=OPERATOR_TOKEN,
    )
    app = create_service_app(
        title="test town",
        settings=settings,
        identity=ServiceIdentity("139999", "試験町", "municipality", "intermediate"),
        metadata=MetaData(),
        routers=[],
        directory_factory=lambda *_: StaticDirectory(),
    )
    async with app.router.lifespan_context(app):
        yield app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://town.test")


async def test_operator_prepares_the_next_key_over_http(service: FastAPI, tmp_path: Path) -> None:
    activates_at = utc_now() + timedelta(hours=1)
    async with client(service) as http:
        prepared = await http.post(
            "/operations/keys/next", json={"activates_at": activates_at.isoformat()}, headers=OPERATOR
        )
        again = await http.post(
            "/operations/keys/next", json={"activates_at": activates_at.isoformat()}, headers=OPERATOR
        )
        identity = (await http.get("/.well-known/institution")).json()

    assert prepared.status_code == 201, prepared.text
    body = prepared.json()
    assert (body["key_id"], body["generation"], body["signing"]) == (f"{KEY_ID}.v2", 2, False)
    assert datetime.fromisoformat(body["activates_at"]) == activates_at
    assert (tmp_path / "data" / "keys" / "v2" / "generation.json").exists()
    assert (again.status_code, again.json()["code"]) == (409, "next_key_pending")
    # The well-known identity still enrols generation 1, and lists every generation held.
    enrolled = service.state.runtime.keys.enrolled
    assert (identity["key_id"], identity["signing_key_id"]) == (KEY_ID, KEY_ID)
    assert identity["signing_public_key"] == enrolled.signing_public_b64()
    assert [(g["key_id"], g["signing"]) for g in identity["key_generations"]] == [
        (KEY_ID, True),
        (f"{KEY_ID}.v2", False),
    ]
    assert identity["key_generations"][1]["signing_public_key"] == body["signing_public_key"]


async def test_preparing_a_key_needs_the_operator_token_and_an_aware_time(service: FastAPI, tmp_path: Path) -> None:
    later = (utc_now() + timedelta(hours=1)).isoformat()
    async with client(service) as http:
        missing = await http.post("/operations/keys/next", json={"activates_at": later})
        wrong = await http.post(
            "/operations/keys/next", json={"activates_at": later}, headers={"Authorization": "Bearer nope"}
        )
        naive = await http.post("/operations/keys/next", json={"activates_at": "2030-01-01T00:00:00"}, headers=OPERATOR)

    assert (missing.status_code, wrong.status_code, naive.status_code) == (401, 401, 422)
    assert not (tmp_path / "data" / "keys" / "v2").exists()
