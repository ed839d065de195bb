"""Signed requests between services, checked by the receiver before any handler runs.

Driven through J-LIS's `POST /individual-numbers`, which only a registered city may call.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

from services.signing import COVERED_COMPONENTS, SIGNATURE_LABEL, SIGNATURE_TAG, sign_request
from tests.support import InProcessNetwork
from tests.unit.jlis.network import BROKER, JLIS, KODAIRA, problem_code

ISSUE_URL = f"http://{JLIS}/individual-numbers"
BODY = {"resident_codes": ["12345678901"]}


def signer_for(key_id: str, private_key: Ed25519PrivateKey) -> HTTPMessageSigner:
    return HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: private_key}),
    )


def signed_request(
    key_id: str,
    private_key: Ed25519PrivateKey,
    *,
    url: str = ISSUE_URL,
    created: datetime | None = None,
    components: Sequence[str] = COVERED_COMPONENTS,
) -> httpx.Request:
    """A request to issue a number, signed as the services sign, with the given key and time."""
    request = httpx.Request("POST", url, json=BODY)
    if created is None and components == COVERED_COMPONENTS:
        sign_request(signer_for(key_id, private_key), key_id, request)
        return request
    signer_for(key_id, private_key).sign(
        request,
        key_id=key_id,
        created=created or datetime.now(UTC),
        nonce=secrets.token_urlsafe(18),
        label=SIGNATURE_LABEL,
        tag=SIGNATURE_TAG,
        covered_component_ids=components,
        body=request.content,
    )
    return request


def as_kodaira(network: InProcessNetwork, *, created: datetime | None = None) -> httpx.Request:
    keys = network.runtime(KODAIRA).keys
    return signed_request(keys.key_id, keys.signing_key, created=created)


async def send(network: InProcessNetwork, *requests: httpx.Request) -> list[httpx.Response]:
    """Send prepared requests exactly as they are: the client adds no signature of its own."""
    async with httpx.AsyncClient(transport=network.transport) as client:
        return [await client.send(request) for request in requests]


def tampered(request: httpx.Request, content: bytes, *, url: str | None = None) -> httpx.Request:
    """The same headers (signature included) on another body or URL."""
    return httpx.Request(request.method, url or request.url, headers=request.headers, content=content)


async def test_city_with_correctly_signed_request_gets_its_numbers(network: InProcessNetwork) -> None:
    async with network.client_for(JLIS, signed_as=KODAIRA) as kodaira:
        response = await kodaira.post("/individual-numbers", json=BODY)
    assert response.status_code == 200
    [issued] = response.json()["numbers"]
    assert issued["resident_code"] == "12345678901"
    assert len(issued["individual_number"]) == 12


async def test_unsigned_request_is_refused_as_signature_missing(network: InProcessNetwork) -> None:
    async with httpx.AsyncClient(transport=network.transport) as anonymous:
        response = await anonymous.post(ISSUE_URL, json=BODY)
    assert response.status_code == 401
    assert problem_code(response) == "signature_missing"


async def test_signature_under_another_label_counts_as_missing(network: InProcessNetwork) -> None:
    request = as_kodaira(network)
    for header in ("signature-input", "signature"):
        request.headers[header] = request.headers[header].replace(f"{SIGNATURE_LABEL}=", "other=", 1)
    [response] = await send(network, request)
    assert response.status_code == 401
    assert problem_code(response) == "signature_missing"


async def test_body_altered_after_signing_is_refused(network: InProcessNetwork) -> None:
    request = as_kodaira(network)
    altered = request.content.replace(b"12345678901", b"12345678902")
    [response] = await send(network, tampered(request, altered))
    assert response.status_code == 401
    assert problem_code(response) == "signature_invalid"


async def test_body_altered_with_a_matching_digest_is_refused(network: InProcessNetwork) -> None:
    request = as_kodaira(network)
    altered = tampered(request, request.content.replace(b"12345678901", b"12345678902"))
    digest = base64.b64encode(hashlib.sha256(altered.content).digest()).decode()
    altered.headers["content-digest"] = f"sha-256=:{digest}:"
    [response] = await send(network, altered)
    assert response.status_code == 401
    assert problem_code(response) == "signature_invalid"


async def test_signature_cannot_be_moved_to_another_endpoint(network: InProcessNetwork) -> None:
    keys = network.runtime(KODAIRA).keys
    request = signed_request(keys.key_id, keys.signing_key, url=f"http://{JLIS}/acquisition-numbers")
    [response] = await send(network, tampered(request, request.content, url=ISSUE_URL))
    assert response.status_code == 401
    assert problem_code(response) == "signature_invalid"


async def test_signature_that_leaves_out_the_body_is_refused(network: InProcessNetwork) -> None:
    keys = network.runtime(KODAIRA).keys
    request = signed_request(keys.key_id, keys.signing_key, components=("@method", "@authority", "@path"))
    [response] = await send(network, request)
    assert response.status_code == 401
    assert problem_code(response) == "signature_invalid"


@pytest.mark.parametrize("offset", [timedelta(minutes=-10), timedelta(minutes=10)], ids=["past", "future"])
async def test_signature_created_ten_minutes_away_from_now_is_stale(
    network: InProcessNetwork, offset: timedelta
) -> None:
    [response] = await send(network, as_kodaira(network, created=datetime.now(UTC) + offset))
    assert response.status_code == 401
    assert problem_code(response) == "signature_stale"


async def test_same_signed_request_sent_twice_is_refused_as_replay(network: InProcessNetwork) -> None:
    request = as_kodaira(network)
    first, second = await send(network, request, request)
    assert first.status_code == 200
    assert second.status_code == 401
    assert problem_code(second) == "signature_replayed"


async def test_key_not_in_the_directory_is_unknown(network: InProcessNetwork) -> None:
    request = signed_request("999999.city", Ed25519PrivateKey.generate())
    [response] = await send(network, request)
    assert response.status_code == 401
    assert problem_code(response) == "unknown_key"


async def test_registered_keyid_signed_with_another_private_key_is_refused(network: InProcessNetwork) -> None:
    impostor = signed_request(network.runtime(KODAIRA).keys.key_id, Ed25519PrivateKey.generate())
    [response] = await send(network, impostor)
    assert response.status_code == 401
    assert problem_code(response) == "signature_invalid"


@pytest.mark.parametrize("caller", [JLIS, BROKER])
async def test_registered_component_that_is_not_a_city_may_not_ask_for_numbers(
    network: InProcessNetwork, caller: str
) -> None:
    async with network.client_for(JLIS, signed_as=caller) as client:
        response = await client.post("/individual-numbers", json=BODY)
    assert response.status_code == 403
    assert problem_code(response) == "caller_not_permitted"
