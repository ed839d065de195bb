"""End-to-end encryption of answers: the provider seals to the requester's X25519 key, so the
broker relays ciphertext it cannot open (DOMAIN rule 3). PyNaCl SealedBox (X25519 + XSalsa20-Poly1305).
"""

from __future__ import annotations

import json
from typing import Any

from nacl.public import PrivateKey, PublicKey, SealedBox

from services.keys import b64, unb64


def seal_json(payload: Any, recipient_public_b64: str) -> str:
    box = SealedBox(PublicKey(unb64(recipient_public_b64)))
    return b64(box.encrypt(json.dumps(payload, ensure_ascii=False).encode("utf-8")))


def open_sealed_json(ciphertext_b64: str, private_key: PrivateKey) -> Any:
    return json.loads(SealedBox(private_key).decrypt(unb64(ciphertext_b64)).decode("utf-8"))
