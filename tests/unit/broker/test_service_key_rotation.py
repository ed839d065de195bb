"""A service rotates its own key end to end (鍵の更新): 東村山市's intermediate server prepares its
next key (operator endpoint), the administrator announces it at the broker's registry, and at the
activation time the server signs with `.v2` and its staff queries still get answers, sealed to the
new key; during the overlap a request signed with the old key is still accepted (its answer,
sealed to the old key, still opens), after it the old key is refused with 401 unknown_key.

The in-process linkage network with real signatures and real sealing; every service reads keys
from the broker's registry (`RegistryDirectory`), and the registry and the server's key store are
judged by one clock the test moves, so nothing sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from nacl.exceptions import CryptoError

from broker.registry.service import RegistryDirectory
from devnet.enrolment import institution_entries
from services.app import Runtime
from services.db import utc_now
from services.keys import ServiceKeys
from services.rbac import Caller
from services.sealing import open_sealed_json
from services.signing import RequestSigner, SignatureVerifier
from tests.unit.linkage_fixture import (
    BROKER,
    CHILD_ALLOWANCE,
    HIGASHIMURAYAMA,
    INCOME_ITEMS,
    JLIS,
    KODAIRA,
    OPERATOR,
    Linkage,
    Mover,
)

KEY_ID = HIGASHIMURAYAMA.intermediate_key_id
NEXT_KEY_ID = f"{KEY_ID}.v2"
OVERLAP = timedelta(minutes=10)


@dataclass
class Clock:
    at: datetime = field(default_factory=utc_now)

    def now(self) -> datetime:
        return self.at


class RecordingVerifier(SignatureVerifier):
    """The broker's verifier, noting the key id of every caller it accepts."""

    accepted: list[str]

    async def verify(self, method: str, url: str, headers: Any, body: bytes) -> Caller:
        caller = await super().verify(method, url, headers, body)
        self.accepted.append(caller.key_id)
        return caller


@dataclass
class Network:
    linkage: Linkage
    clock: Clock
    broker_verifier: RecordingVerifier
    mover: Mover
    token: str

    @property
    def server(self) -> Runtime:
        return self.linkage.network.runtime(HIGASHIMURAYAMA.intermediate_host)

    async def staff_query(self) -> httpx.Response:
        """A staff member's query: the server signs it to the broker with the key in force."""
        self.broker_verifier.accepted.clear()
        return await self.linkage.staff_query(
            HIGASHIMURAYAMA, self.token, self.mover.address_numbers["higashimurayama"]
        )

    def signed_by_broker(self) -> list[str]:
        return [key_id for key_id in self.broker_verifier.accepted if key_id.startswith(KEY_ID)]

    async def query_signed_with_old_key(self) -> httpx.Response:
        """POST /queries to the broker as the server did before the switch (e.g. a replica whose
        clock lags): its key store read at a time before the next key activated."""
        old = ServiceKeys(self.server.settings.data_dir / "keys", KEY_ID, now=lambda: utc_now() - timedelta(days=1))
        assert old.key_id == KEY_ID
        self.broker_verifier.accepted.clear()
        symbol = await self.linkage.symbol_held_by(HIGASHIMURAYAMA, self.mover.address_numbers["higashimurayama"])
        body = {
            "requester_symbol": symbol,
            "procedure_code": CHILD_ALLOWANCE,
            "provider_code": KODAIRA.code,
            "item_codes": INCOME_ITEMS,
        }
        async with httpx.AsyncClient(
            transport=self.linkage.network.transport, base_url=f"http://{BROKER}", auth=RequestSigner(old)
        ) as client:
            return await client.post("/queries", json=body)


async def _enrol_national_components(linkage: Linkage) -> None:
    """J-LIS and the broker at the registry too, so every key can be looked up there."""
    async with linkage.network.client_for(BROKER) as broker:
        for host in (JLIS, BROKER):
            async with linkage.network.client_for(host) as component:
                identity = (await component.get("/.well-known/institution")).json()
            [entry] = institution_entries([(identity, f"http://{host}")])
            response = await broker.post("/registry/institutions", json=entry, headers=OPERATOR)
            assert response.status_code == 200, response.text


@pytest.fixture
async def network(linkage: Linkage) -> Network:
    await _enrol_national_components(linkage)
    clock = Clock()
    directory = RegistryDirectory(linkage.database(BROKER), int(OVERLAP.total_seconds()), now=clock.now)
    broker_verifier = RecordingVerifier(directory, linkage.database(BROKER), 300)
    broker_verifier.accepted = []
    for host in linkage.network.apps:
        runtime = linkage.network.runtime(host)
        runtime.directory = directory
        runtime.verifier = broker_verifier if host == BROKER else SignatureVerifier(directory, runtime.database, 300)
    linkage.network.runtime(HIGASHIMURAYAMA.intermediate_host).keys.now = clock.now
    mover = await linkage.move_resident()
    token = await linkage.staff_token(HIGASHIMURAYAMA, "kosodate-001", "子育て支援課")
    return Network(linkage, clock, broker_verifier, mover, token)


async def prepare_and_announce_next_key(
    network: Network, host: str, institution: str, component: str, activates_at: datetime
) -> dict[str, Any]:
    """The component's operator prepares its next key (`POST /operations/keys/next`) and the
    administrator announces its public keys at the broker's registry: the announced generation."""
    async with network.linkage.network.client_for(host) as server:
        prepared = await server.post(
            "/operations/keys/next", json={"activates_at": activates_at.isoformat()}, headers=OPERATOR
        )
    assert prepared.status_code == 201, prepared.text
    announcement = {
        "signing_public_key": prepared.json()["signing_public_key"],
        "encryption_public_key": prepared.json()["encryption_public_key"],
        "activates_at": activates_at.isoformat(),
    }
    async with network.linkage.network.client_for(BROKER) as broker:
        announced = await broker.post(
            f"/registry/institutions/{institution}/components/{component}/keys", json=announcement, headers=OPERATOR
        )
    assert announced.status_code == 201, announced.text
    generation: dict[str, Any] = announced.json()
    assert generation["key_id"] == prepared.json()["key_id"]
    return generation


def income(answer: dict[str, Any]) -> dict[str, int]:
    return {item["item_code"]: item["value"] for item in answer["items"]}


async def test_a_server_rotates_its_own_key_end_to_end(network: Network) -> None:
    expected_income = {"tax.taxable_income": network.mover.taxable_income, "tax.income_levy": network.mover.income_levy}
    before = await network.staff_query()
    assert before.status_code == 200, before.text
    assert network.signed_by_broker() == [KEY_ID]

    # The server's operator prepares the next key, to take over in an hour; the administrator
    # announces its public keys at the broker, with the same activation time.
    activates_at = network.clock.at + timedelta(hours=1)
    announced = await prepare_and_announce_next_key(
        network, HIGASHIMURAYAMA.intermediate_host, HIGASHIMURAYAMA.code, "intermediate", activates_at
    )
    assert (announced["key_id"], announced["status"]) == (NEXT_KEY_ID, "announced")

    # Until then the server keeps signing with its enrolled key.
    network.clock.at = activates_at - timedelta(seconds=1)
    still_old = await network.staff_query()
    assert still_old.status_code == 200, still_old.text
    assert network.signed_by_broker() == [KEY_ID]

    # At the activation time it signs with .v2, without a restart; the answer is sealed to .v2's key.
    network.clock.at = activates_at
    switched = await network.staff_query()
    assert switched.status_code == 200, switched.text
    assert network.signed_by_broker() == [NEXT_KEY_ID]
    assert income(switched.json()) == expected_income
    assert network.server.keys.key_id == NEXT_KEY_ID

    # During the overlap a request signed with the old key is accepted; its answer, sealed to the
    # old encryption key, opens with the server's keys (not with the new key alone).
    network.clock.at = activates_at + OVERLAP - timedelta(seconds=1)
    overlap = await network.query_signed_with_old_key()
    assert overlap.status_code == 200, overlap.text
    assert network.signed_by_broker() == [KEY_ID]
    ciphertext = overlap.json()["ciphertext"]
    assert income(open_sealed_json(ciphertext, network.server.keys)) == expected_income
    with pytest.raises(CryptoError):
        open_sealed_json(ciphertext, network.server.keys.encryption_key)

    # After the overlap the old key is refused; the server, on .v2, is not.
    network.clock.at = activates_at + OVERLAP
    refused = await network.query_signed_with_old_key()
    assert (refused.status_code, refused.json()["code"]) == (401, "unknown_key")
    after = await network.staff_query()
    assert after.status_code == 200, after.text
    assert network.signed_by_broker() == [NEXT_KEY_ID]
    assert income(after.json()) == expected_income


async def test_a_key_the_broker_was_not_told_of_is_refused_once_the_server_switches(network: Network) -> None:
    # The administrator must announce before the activation time: the broker knows no .v2 key.
    activates_at = network.clock.at + timedelta(minutes=5)
    network.server.keys.prepare_next(activates_at)
    network.clock.at = activates_at

    response = await network.staff_query()

    assert (response.status_code, response.json()["code"]) == (401, "unknown_key")
