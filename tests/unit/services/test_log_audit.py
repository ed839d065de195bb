"""A provision-log leaf is the canonical JSON of the record's public fields, whoever computes it:
the fast field-by-field writer gives exactly json.dumps's bytes for any text, and the subject
commitment binds salt, serial and symbol unambiguously."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.log_audit import PUBLIC_FIELDS, leaf_bytes, record_leaf_hash, subject_commitment
from services.merkle import canonical_json, leaf_hash

texts = st.text()  # quotes, backslashes, control characters, 漢字: any Unicode but lone surrogates
records = st.fixed_dictionaries(
    {
        **{name: texts for name in PUBLIC_FIELDS if name not in ("item_codes", "latency_ms", "whitelist_row")},
        "item_codes": st.lists(texts, max_size=4),
        "latency_ms": st.integers(0, 10**9),
        "whitelist_row": st.none() | texts,
    }
)


@given(records)
def test_leaf_is_the_canonical_json_of_the_public_fields(record: dict[str, Any]) -> None:
    assert leaf_bytes(record) == canonical_json(record)
    assert record_leaf_hash({**record, "leaf_index": 3}) == leaf_hash(canonical_json(record))  # extras ignored


@given(records)
def test_a_value_of_the_wrong_type_is_refused_not_hashed_like_another(record: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        leaf_bytes({**record, "latency_ms": str(record["latency_ms"])})  # "12" must not pass for 12
    with pytest.raises(TypeError):
        leaf_bytes({**record, "outcome": 1})
    with pytest.raises(TypeError):
        leaf_bytes({**record, "item_codes": "ab"})  # a string must not pass for ["a", "b"]
    with pytest.raises(KeyError):
        leaf_bytes({name: value for name, value in record.items() if name != "subject_commitment"})


def test_commitment_depends_on_salt_serial_and_symbol_and_not_on_how_they_split() -> None:
    salt = "ab" * 32
    base = subject_commitment(salt, "serial", "symbol")
    assert len(base) == 64
    assert base == subject_commitment(salt, "serial", "symbol")
    assert base != subject_commitment("cd" * 32, "serial", "symbol")
    assert base != subject_commitment(salt, "serialx", "symbol")
    assert base != subject_commitment(salt, "serials", "ymbol")
    assert subject_commitment(salt, None, None) != subject_commitment(salt, "null", "null")
