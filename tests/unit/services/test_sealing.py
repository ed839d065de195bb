"""Sealed answers: only the requester's private key opens them; the relaying broker sees noise."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey

from services.keys import b64
from services.sealing import open_sealed_json, seal_json

ANSWER = {"item": "I202", "tax_year": 2014, "taxable_income": 3_120_000, "name": "東村山 花子"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


def public_b64(private_key: PrivateKey) -> str:
    return b64(bytes(private_key.public_key))


REQUESTER = PrivateKey.generate()


@given(json_values)
def test_requester_opens_what_was_sealed_to_it(payload: Any) -> None:
    assert open_sealed_json(seal_json(payload, public_b64(REQUESTER)), REQUESTER) == payload


def test_another_private_key_cannot_open_a_sealed_answer() -> None:
    sealed = seal_json(ANSWER, public_b64(REQUESTER))
    with pytest.raises(CryptoError):
        open_sealed_json(sealed, PrivateKey.generate())


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    sealed = seal_json(ANSWER, public_b64(REQUESTER))
    raw = base64.b64decode(sealed)
    plaintext = json.dumps(ANSWER, ensure_ascii=False)
    assert plaintext not in sealed
    # In the decoded bytes: a four-character marker turns up in 180 characters of base64 text by
    # chance once in ~90,000 runs, in 130 random bytes once in ~30 million.
    for text in ("東村山 花子", "3120000", "I202", plaintext):
        assert text.encode() not in raw


def test_sealing_the_same_answer_twice_gives_unrelated_ciphertexts() -> None:
    # A relay cannot tell that two answers carry the same content.
    assert seal_json(ANSWER, public_b64(REQUESTER)) != seal_json(ANSWER, public_b64(REQUESTER))


def test_altered_ciphertext_does_not_open() -> None:
    raw = bytearray(base64.b64decode(seal_json(ANSWER, public_b64(REQUESTER))))
    raw[-1] ^= 0x01
    with pytest.raises(CryptoError):
        open_sealed_json(b64(bytes(raw)), REQUESTER)
