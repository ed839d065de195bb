"""A service's own key store: generated on first start under its data dir, never committed.

Each service holds an Ed25519 key to sign its requests and an X25519 key on which others seal
answers to it (see `sealing`). Symmetric secrets (J-LIS's number key, the broker's symbol key)
live here too.

Keys rotate in generations (鍵の更新). Generation 1 is the pair enrolled at the broker, kept where
it always was (`keys/signing.ed25519`, `keys/encryption.x25519`) under key id `{code}.{component}`.
The operator prepares generation n ≥ 2 with an activation time (`POST /operations/keys/next`, see
`services.app`); it is written to `keys/v{n}/` with its key id `{code}.{component}.v{n}` and
`activates_at` in `keys/v{n}/generation.json`, all renamed into place at once, so replicas sharing
the data dir see a whole generation or none. The administrator announces the same public keys at
the broker with the same activation time (`python -m devnet.admin keys announce`).

A running service signs with the newest generation whose activation time has passed, checked on
every use: a look at the key dir's modification time finds a generation another replica wrote,
and a comparison of times switches to it, so nobody restarts anything. It opens answers sealed to
any generation it holds: during the broker's overlap an answer may still be sealed to the previous
encryption key.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.public import PrivateKey as X25519PrivateKey

SIGNING_FILE = "signing.ed25519"
ENCRYPTION_FILE = "encryption.x25519"
GENERATION_FILE = "generation.json"
_GENERATION_DIR = re.compile(r"^v([0-9]{1,6})$")
RESCAN_SECONDS = 10.0  # a rescan even when the dir's mtime looks unchanged (coarse file-system clocks)


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
    return _read_secret(path, size)


def _read_secret(path: Path, size: int = 32) -> bytes:
    data = path.read_bytes()
    if len(data) != size:
        raise RuntimeError(f"secret file {path} has {len(data)} bytes, expected {size}")
    return data


class NextKeyPending(Exception):
    """A prepared generation has not reached its activation time yet: announce and await it first,
    so the service's generations and the broker's stay numbered alike."""


@dataclass(frozen=True)
class KeyGeneration:
    """One signing and encryption key pair of the service, and from when it signs."""

    key_id: str
    generation: int
    signing_key: Ed25519PrivateKey
    encryption_key: X25519PrivateKey
    activates_at: datetime | None  # None for generation 1: in force since enrolment

    @property
    def signing_public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    def signing_public_b64(self) -> str:
        return b64(self.signing_public_key.public_bytes_raw())

    def encryption_public_b64(self) -> str:
        return b64(bytes(self.encryption_key.public_key))

    def active(self, now: datetime) -> bool:
        return self.activates_at is None or self.activates_at <= now


class ServiceKeys:
    """The key pairs that identify one component of an institution on the network, every
    generation of them. `key_id`, `signing_key`, `encryption_key` and the public keys are those
    of the generation in force now (`current()`); read `current()` once when two must match.

    `now` is the clock activation is judged by (tests set it).
    """

    def __init__(self, key_dir: Path, key_id: str, now: Callable[[], datetime] | None = None) -> None:
        self.key_dir = key_dir
        self.base_key_id = key_id
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self._first = KeyGeneration(
            key_id=key_id,
            generation=1,
            signing_key=Ed25519PrivateKey.from_private_bytes(load_or_create_secret(key_dir / SIGNING_FILE)),
            encryption_key=X25519PrivateKey(load_or_create_secret(key_dir / ENCRYPTION_FILE)),
            activates_at=None,
        )
        self._generations: tuple[KeyGeneration, ...] = (self._first,)
        self._seen_mtime = -1
        self._scanned_at = 0.0
        self._refresh()

    # --- the generation in force ------------------------------------------------------------

    def current(self) -> KeyGeneration:
        """The newest generation whose activation time has passed."""
        self._refresh()
        now = self.now()
        return next(g for g in reversed(self._generations) if g.active(now))

    @property
    def key_id(self) -> str:
        return self.current().key_id

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return self.current().signing_key

    @property
    def encryption_key(self) -> X25519PrivateKey:
        return self.current().encryption_key

    @property
    def signing_public_key(self) -> Ed25519PublicKey:
        return self.current().signing_public_key

    def signing_public_b64(self) -> str:
        return self.current().signing_public_b64()

    def encryption_public_b64(self) -> str:
        return self.current().encryption_public_b64()

    # --- every generation -------------------------------------------------------------------

    @property
    def enrolled(self) -> KeyGeneration:
        """Generation 1, registered at enrolment under the component's own key id."""
        return self._first

    def generations(self) -> tuple[KeyGeneration, ...]:
        """Every generation held, oldest first (including any not active yet)."""
        self._refresh()
        return self._generations

    def encryption_keys(self) -> list[X25519PrivateKey]:
        """Every encryption key an answer may have been sealed to: the one in force first, then
        the others newest first."""
        current = self.current()
        return [current.encryption_key] + [
            g.encryption_key for g in reversed(self.generations()) if g.generation != current.generation
        ]

    def prepare_next(self, activates_at: datetime) -> KeyGeneration:
        """Create generation n + 1, in force from `activates_at` (timezone-aware). Refused with
        `NextKeyPending` while the newest one held is not active yet; of replicas preparing at
        once, one wins and the others get `NextKeyPending` too."""
        if activates_at.tzinfo is None:
            raise ValueError("activates_at needs a timezone")
        newest = self.generations()[-1]
        if not newest.active(self.now()):
            when = newest.activates_at.isoformat() if newest.activates_at else "?"
            raise NextKeyPending(f"{newest.key_id} is prepared and activates at {when}; announce it and wait.")
        generation = newest.generation + 1
        key_id = f"{self.base_key_id}.v{generation}"
        staging = self.key_dir / f".v{generation}-{secrets.token_hex(6)}"
        staging.mkdir(mode=0o700)
        try:
            _write_new_file(staging / SIGNING_FILE, secrets.token_bytes(32))
            _write_new_file(staging / ENCRYPTION_FILE, secrets.token_bytes(32))
            record = {"key_id": key_id, "generation": generation, "activates_at": activates_at.isoformat()}
            _write_new_file(staging / GENERATION_FILE, json.dumps(record).encode())
            try:
                staging.rename(self.key_dir / f"v{generation}")
            except OSError as exc:  # the directory exists: another replica prepared it first
                raise NextKeyPending(f"{key_id} was just prepared by another replica.") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._seen_mtime = -1  # rescan now
        return next(g for g in self.generations() if g.generation == generation)

    # --- reading the key dir ----------------------------------------------------------------

    def _refresh(self) -> None:
        """Rescan the key dir when it changed (a new generation is a new entry in it)."""
        try:
            mtime = self.key_dir.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._seen_mtime and time.monotonic() - self._scanned_at < RESCAN_SECONDS:
            return
        self._seen_mtime, self._scanned_at = mtime, time.monotonic()
        held = {g.generation: g for g in self._generations}
        for entry in self.key_dir.iterdir():
            match = _GENERATION_DIR.match(entry.name)
            if match is None or int(match.group(1)) < 2 or int(match.group(1)) in held:
                continue
            loaded = _load_generation(entry, int(match.group(1)), self.base_key_id)
            if loaded is not None:
                held[loaded.generation] = loaded
        self._generations = tuple(held[n] for n in sorted(held))


def _load_generation(directory: Path, generation: int, base_key_id: str) -> KeyGeneration | None:
    try:
        record = json.loads((directory / GENERATION_FILE).read_text())
    except FileNotFoundError:
        return None
    key_id = f"{base_key_id}.v{generation}"
    if record.get("generation") != generation or record.get("key_id") != key_id:
        raise RuntimeError(f"{directory / GENERATION_FILE} does not describe {key_id}")
    activates_at = datetime.fromisoformat(record["activates_at"])
    if activates_at.tzinfo is None:
        raise RuntimeError(f"{directory / GENERATION_FILE}: activates_at has no timezone")
    return KeyGeneration(
        key_id=key_id,
        generation=generation,
        signing_key=Ed25519PrivateKey.from_private_bytes(_read_secret(directory / SIGNING_FILE)),
        encryption_key=X25519PrivateKey(_read_secret(directory / ENCRYPTION_FILE)),
        activates_at=activates_at,
    )


def load_or_create_keys(key_dir: Path, key_id: str) -> ServiceKeys:
    """The service's keys: generation 1 created on first start, later generations read as held."""
    return ServiceKeys(key_dir, key_id)


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(unb64(text))
