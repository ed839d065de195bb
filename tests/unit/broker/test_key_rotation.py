"""Key rotation at the broker's registry (鍵の更新): an operator announces a component's next key
with the time it takes over. From then both keys verify; once the new key has been active for the
overlap, the old key is refused (401 unknown_key) and only the new one verifies.

Signatures here are real RFC 9421 signatures checked by the real verifier against the broker's
own registry (`RegistryDirectory` on its database), with the registry's clock set by the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from broker.registry.service import RegistryDirectory
from services.db import utc_now
from services.keys import ServiceKeys, load_or_create_keys
from services.problems import Unauthenticated
from services.rbac import Caller
from services.signing import RequestSigner, SignatureVerifier
from tests.unit.linkage_fixture import BROKER, OPERATOR, Linkage

CODE = "139999"  # a fictitious town
KEY_ID = f"{CODE}.intermediate"
NEXT_KEY_ID = f"{KEY_ID}.v2"
KEYS_PATH = f"/registry/institutions/{CODE}/components/intermediate/keys"
OVERLAP = timedelta(minutes=10)


@dataclass
class Clock:
    """The registry's notion of now, moved by the test instead of sleeping."""

    at: datetime = field(default_factory=utc_now)

    def now(self) -> datetime:
        return self.at


@dataclass
class Rotation:
    linkage: Linkage
    old: ServiceKeys
    new: ServiceKeys
    clock: Clock
    verifier: SignatureVerifier

    async def announce(self, activates_at: datetime | None, headers: dict[str, str] = OPERATOR) -> httpx.Response:
        body: dict[str, Any] = {
            "signing_public_key": self.new.signing_public_b64(),
            "encryption_public_key": self.new.encryption_public_b64(),
        }
        if activates_at is not None:
            body["activates_at"] = activates_at.isoformat()
        async with self.linkage.network.client_for(BROKER) as client:
            return await client.post(KEYS_PATH, json=body, headers=headers)

    async def verify(self, keys: ServiceKeys) -> Caller:
        """A request signed with `keys`, as the broker's verifier checks it."""
        request = httpx.Request("POST", f"http://{BROKER}/queries", json={"probe": keys.key_id})
        next(RequestSigner(keys).auth_flow(request))
        return await self.verifier.verify(request.method, str(request.url), request.headers, request.content)

    async def refused(self, keys: ServiceKeys) -> str:
        with pytest.raises(Unauthenticated) as refusal:
            await self.verify(keys)
        return refusal.value.code


@pytest.fixture
async def rotation(linkage: Linkage, tmp_path: Path) -> Rotation:
    old = load_or_create_keys(tmp_path / "old-keys", KEY_ID)
    new = load_or_create_keys(tmp_path / "new-keys", NEXT_KEY_ID)
    entry = {
        "code": CODE,
        "name": "試験町",
        "kind": "municipality",
        "components": [
            {
                "component": "intermediate",
                "base_url": "http://test-town-intermediate.test",
                "signing_public_key": old.signing_public_b64(),
                "encryption_public_key": old.encryption_public_b64(),
            }
        ],
    }
    async with linkage.network.client_for(BROKER) as client:
        response = await client.post("/registry/institutions", json=entry, headers=OPERATOR)
    assert response.status_code == 200, response.text
    clock = Clock()
    database = linkage.database(BROKER)
    directory = RegistryDirectory(database, int(OVERLAP.total_seconds()), now=clock.now)
    return Rotation(linkage, old, new, clock, SignatureVerifier(directory, database, 300))


async def public_key(linkage: Linkage, key_id: str) -> httpx.Response:
    async with linkage.network.client_for(BROKER) as client:
        return await client.get(f"/registry/keys/{key_id}")


async def test_both_keys_verify_during_the_overlap_and_only_the_new_one_after(rotation: Rotation) -> None:
    announced = await rotation.announce(rotation.clock.at)
    assert announced.status_code == 201, announced.text
    assert (announced.json()["key_id"], announced.json()["generation"]) == (NEXT_KEY_ID, 2)

    old_caller = await rotation.verify(rotation.old)
    new_caller = await rotation.verify(rotation.new)
    assert (old_caller.key_id, new_caller.key_id) == (KEY_ID, NEXT_KEY_ID)
    assert {(c.institution_code, c.component) for c in (old_caller, new_caller)} == {(CODE, "intermediate")}

    rotation.clock.at += OVERLAP - timedelta(seconds=1)
    await rotation.verify(rotation.old)  # still inside the overlap

    rotation.clock.at += timedelta(seconds=1)
    assert await rotation.refused(rotation.old) == "unknown_key"
    assert (await rotation.verify(rotation.new)).key_id == NEXT_KEY_ID


async def test_a_key_announced_for_later_is_not_accepted_before_it_activates(rotation: Rotation) -> None:
    activates_at = rotation.clock.at + timedelta(hours=1)
    announced = await rotation.announce(activates_at)
    assert announced.status_code == 201, announced.text
    assert announced.json()["status"] == "announced"

    assert await rotation.refused(rotation.new) == "unknown_key"
    await rotation.verify(rotation.old)

    rotation.clock.at = activates_at
    await rotation.verify(rotation.new)
    await rotation.verify(rotation.old)

    rotation.clock.at = activates_at + OVERLAP
    assert await rotation.refused(rotation.old) == "unknown_key"


async def test_key_directory_endpoint_follows_the_rotation(rotation: Rotation) -> None:
    # The broker's own overlap (a day by default) applies to the public directory other services read.
    assert (await rotation.announce(utc_now() + timedelta(hours=1))).status_code == 201
    assert (await public_key(rotation.linkage, NEXT_KEY_ID)).status_code == 404
    assert (await public_key(rotation.linkage, KEY_ID)).status_code == 200

    async with rotation.linkage.network.client_for(BROKER) as client:
        generations = (await client.get(KEYS_PATH)).json()
    assert [(g["key_id"], g["status"]) for g in generations] == [(KEY_ID, "active"), (NEXT_KEY_ID, "announced")]


async def test_a_key_activated_longer_ago_than_the_overlap_retires_the_old_key_at_once(
    rotation: Rotation,
) -> None:
    # E.g. after a compromise: the operator backdates the new key so the old one stops verifying now.
    assert (await rotation.announce(utc_now() - timedelta(days=2))).status_code == 201

    old = await public_key(rotation.linkage, KEY_ID)
    new = await public_key(rotation.linkage, NEXT_KEY_ID)

    assert (old.status_code, old.json()["code"]) == (404, "unknown_key")
    assert new.status_code == 200
    assert new.json()["signing_public_key"] == rotation.new.signing_public_b64()
    assert new.json()["base_url"] == "http://test-town-intermediate.test"


async def test_each_further_key_gets_the_next_generation(rotation: Rotation, tmp_path: Path) -> None:
    third = load_or_create_keys(tmp_path / "third-keys", f"{KEY_ID}.v3")
    assert (await rotation.announce(None)).status_code == 201
    body = {"signing_public_key": third.signing_public_b64(), "encryption_public_key": third.encryption_public_b64()}

    async with rotation.linkage.network.client_for(BROKER) as client:
        response = await client.post(KEYS_PATH, json=body, headers=OPERATOR)
        again = await client.post(KEYS_PATH, json=body, headers=OPERATOR)

    assert response.status_code == 201, response.text
    assert response.json()["key_id"] == f"{KEY_ID}.v3"
    assert (again.status_code, again.json()["code"]) == (409, "key_already_registered")


async def test_announcing_a_key_needs_the_operator_token(rotation: Rotation) -> None:
    missing = await rotation.announce(None, headers={})
    wrong = await rotation.announce(None, headers={"Authorization": "Bearer not-the-token"})

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert (await public_key(rotation.linkage, NEXT_KEY_ID)).status_code == 404


async def test_announcing_a_key_for_an_unknown_institution_or_component_is_404(rotation: Rotation) -> None:
    body = {
        "signing_public_key": rotation.new.signing_public_b64(),
        "encryption_public_key": rotation.new.encryption_public_b64(),
    }
    async with rotation.linkage.network.client_for(BROKER) as client:
        institution = await client.post(
            "/registry/institutions/999998/components/intermediate/keys", json=body, headers=OPERATOR
        )
        component = await client.post(
            f"/registry/institutions/{CODE}/components/city/keys", json=body, headers=OPERATOR
        )

    assert (institution.status_code, institution.json()["code"]) == (404, "unknown_institution")
    assert (component.status_code, component.json()["code"]) == (404, "unknown_component")
