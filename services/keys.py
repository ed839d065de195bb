"""A service's own key store: generated on first start under its data dir, never committed.

Each service holds an Ed25519 key to sign its requests and an X25519 key on which others seal
answers to it (see `sealing`). Symmetric secrets (J-LIS's number key, the broker's symbol key)
live here too.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.public import PrivateKey as X25519PrivateKey


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _write_new_file(path: Path, data: bytes) -> None:
    """Create a 0600 file atomically; if another replica won the race, keep theirs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load_or_create_secret(path: Path, size: int = 32) -> bytes:
    """A random secret kept in one file: created once, then read back on every start."""
    if not path.exists():
        _write_new_file(path, secrets.token_bytes(size))
    data = path.read_bytes()
    if len(data) != size:
        raise RuntimeError(f"secret file {path} has {len(data)} bytes, expected {size}")
    return data


@dataclass(frozen=True)
class ServiceKeys:
    """The key pairs that identify one component of an institution on the network."""

    key_id: str
    signing_key: Ed25519PrivateKey
    encryption_key: X25519PrivateKey

    @property
    def signing_public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    def signing_public_b64(self) -> str:
        return b64(self.signing_public_key.public_bytes_raw())

    def encryption_public_b64(self) -> str:
        return b64(bytes(self.encryption_key.public_key))


def load_or_create_keys(key_dir: Path, key_id: str) -> ServiceKeys:
    signing_raw = load_or_create_secret(key_dir / "signing.ed25519")
    encryption_raw = load_or_create_secret(key_dir / "encryption.x25519")
    return ServiceKeys(
        key_id=key_id,
        signing_key=Ed25519PrivateKey.from_private_bytes(signing_raw),
        encryption_key=X25519PrivateKey(encryption_raw),
    )


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(unb64(text))
