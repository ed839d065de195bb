"""Signed requests between services (RFC 9421 HTTP Message Signatures, Ed25519).

Every service-to-service request covers method, authority, path, query and the body's
Content-Digest (RFC 9530), and carries a `created` time and a single-use `nonce`. The receiver
checks the signature against the key registered at the broker, refuses stale times and stores
each nonce so a replay is refused (in the service's own database, so replicas share it).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import http_sf
import httpx
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)
from sqlalchemy import String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Database, KernelBase, UTCDateTime, utc_now
from services.keys import ServiceKeys, public_key_from_b64
from services.problems import Unauthenticated
from services.rbac import Caller

SIGNATURE_LABEL = "mn"
SIGNATURE_TAG = "mynumber-net"
COVERED_COMPONENTS = ("@method", "@authority", "@path", "@query", "content-digest")


@dataclass(frozen=True)
class RegisteredKey:
    """A component's public material as the broker's registry holds it."""

    key_id: str
    institution_code: str
    institution_name: str
    institution_kind: str
    component: str
    base_url: str
    signing_public_key: str
    encryption_public_key: str


class KeyDirectory(Protocol):
    async def resolve(self, key_id: str) -> RegisteredKey | None: ...


class SeenNonce(KernelBase):
    """A nonce already used by a signer: a second request carrying it is a replay."""

    __tablename__ = "seen_signature_nonces"
    key_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RequestSigner(httpx.Auth):
    """httpx auth flow that signs every outgoing request with the service's Ed25519 key of the
    generation in force (see `services.keys`), named by that generation's key id."""

    requires_request_body = True

    def __init__(self, keys: ServiceKeys) -> None:
        self.keys = keys
        self._signers: dict[str, HTTPMessageSigner] = {}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # The generation in force now: a key that activated since the last request signs this one.
        generation = self.keys.current()
        signer = self._signers.get(generation.key_id)
        if signer is None:
            signer = HTTPMessageSigner(
                signature_algorithm=algorithms.ED25519,
                key_resolver=MappingKeyResolver(
                    public_keys={}, private_keys={generation.key_id: generation.signing_key}
                ),
            )
            self._signers[generation.key_id] = signer
        sign_request(signer, generation.key_id, request)
        yield request


def sign_request(signer: HTTPMessageSigner, key_id: str, request: httpx.Request) -> None:
    signer.sign(
        request,
        key_id=key_id,
        created=datetime.now(UTC),
        nonce=secrets.token_urlsafe(18),
        label=SIGNATURE_LABEL,
        tag=SIGNATURE_TAG,
        covered_component_ids=COVERED_COMPONENTS,
        body=request.content,
    )


@dataclass(frozen=True)
class _Message:
    """The view of an incoming request that the verifier reads."""

    method: str
    url: str
    headers: Any


class SignatureVerifier:
    """Checks incoming signatures, freshness and nonces; yields the verified caller."""

    def __init__(self, directory: KeyDirectory, database: Database, window_seconds: int) -> None:
        self.directory = directory
        self.database = database
        self.window = timedelta(seconds=window_seconds)

    async def verify(self, method: str, url: str, headers: Any, body: bytes) -> Caller:
        params = _signature_params(headers)
        key_id = params.get("keyid")
        if not isinstance(key_id, str):
            raise Unauthenticated("signature_missing", "The request carries no RFC 9421 signature with a keyid.")
        created = params.get("created")
        nonce = params.get("nonce")
        if not isinstance(created, int) or not isinstance(nonce, str) or not 8 <= len(nonce) <= 64:
            raise Unauthenticated("signature_invalid", "The signature needs a created time and a nonce.")
        skew = abs(datetime.now(UTC) - datetime.fromtimestamp(created, UTC))
        if skew > self.window:
            raise Unauthenticated(
                "signature_stale", f"The signature was created {int(skew.total_seconds())} s away from now."
            )
        registered = await self.directory.resolve(key_id)
        if registered is None:
            raise Unauthenticated("unknown_key", f"No institution is registered with key {key_id}.")
        verifier = HTTPMessageVerifier(
            signature_algorithm=algorithms.ED25519,
            key_resolver=MappingKeyResolver(
                public_keys={key_id: public_key_from_b64(registered.signing_public_key)}, private_keys={}
            ),
        )
        try:
            verifier.verify(
                _Message(method, url, headers),
                max_age=self.window,
                expect_tag=SIGNATURE_TAG,
                require_components=COVERED_COMPONENTS,
                body=body,
            )
        except (InvalidSignature, HTTPMessageSignaturesException) as exc:
            raise Unauthenticated("signature_invalid", f"The request signature does not verify: {exc}") from exc
        await self._consume_nonce(key_id, nonce)
        return Caller(
            key_id=key_id,
            institution_code=registered.institution_code,
            institution_kind=registered.institution_kind,
            component=registered.component,
        )

    async def _consume_nonce(self, key_id: str, nonce: str) -> None:
        now = utc_now()
        async with self.database.sessions() as session:
            session.add(SeenNonce(key_id=key_id, nonce=nonce, seen_at=now))
            if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
                await session.execute(delete(SeenNonce).where(SeenNonce.seen_at < now - 2 * self.window))
            try:
                await session.commit()
            except IntegrityError as exc:
                raise Unauthenticated("signature_replayed", "This signature's nonce was already used.") from exc


def _signature_params(headers: Any) -> dict[str, Any]:
    raw = headers.get("signature-input")
    if not raw:
        return {}
    try:
        parsed = http_sf.parse(raw.encode(), tltype="dictionary")
    except ValueError:
        return {}
    entry = parsed.get(SIGNATURE_LABEL) if isinstance(parsed, dict) else None
    if not isinstance(entry, tuple) or len(entry) != 2 or not isinstance(entry[1], dict):
        return {}
    return dict(entry[1])
