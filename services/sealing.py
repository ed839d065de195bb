"""End-to-end encryption of answers: the provider seals to the requester's X25519 key, so the
broker relays ciphertext it cannot open (DOMAIN rule 3). PyNaCl SealedBox (X25519 + XSalsa20-Poly1305).

The provider seals to the encryption key registered for the key id the requester signed with, so
while keys rotate an answer may be sealed to any generation the requester holds: opening with the
requester's `ServiceKeys` tries each of them, the one in force first.
"""

from __future__ import annotations

import json
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from services.keys import ServiceKeys, b64, unb64


def seal_json(payload: Any, recipient_public_b64: str) -> str:
    box = SealedBox(PublicKey(unb64(recipient_public_b64)))
    return b64(box.encrypt(json.dumps(payload, ensure_ascii=False).encode("utf-8")))


def open_sealed_json(ciphertext_b64: str, keys: PrivateKey | ServiceKeys) -> Any:
    """The payload sealed to this private key, or to any generation of these service keys;
    `nacl.exceptions.CryptoError` when none of them opens it."""
    ciphertext = unb64(ciphertext_b64)
    candidates = [keys] if isinstance(keys, PrivateKey) else keys.encryption_keys()
    failure: CryptoError | None = None
    for private_key in candidates:
        try:
            plaintext = SealedBox(private_key).decrypt(ciphertext)
        except CryptoError as exc:
            failure = exc
            continue
        return json.loads(plaintext.decode("utf-8"))
    raise failure if failure is not None else CryptoError("No key to open the sealed answer with.")
