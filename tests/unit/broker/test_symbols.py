"""Symbol derivation (機関別符号): one opaque 32-character symbol per institution and epoch for
each person, which says nothing about the same person's symbol at any other institution (rule 2)."""

from __future__ import annotations

import re
from itertools import takewhile

from hypothesis import given
from hypothesis import strategies as st

from broker.symbols.service import derive_symbol

SYMBOL = re.compile(r"[A-Z2-7]{32}")
FIXED_MASTER_KEY = bytes(range(32))

master_keys = st.binary(min_size=32, max_size=32)
institution_codes = st.from_regex(r"[a-z0-9-]{2,32}", fullmatch=True)
epochs = st.integers(min_value=1, max_value=10_000)
serials = st.from_regex(r"[0-9a-f]{32}", fullmatch=True)


def shared_prefix(a: str, b: str) -> int:
    return sum(1 for _ in takewhile(lambda pair: pair[0] == pair[1], zip(a, b, strict=True)))


def shared_affix(a: str, b: str) -> int:
    """The longer of the common prefix and the common suffix."""
    return max(shared_prefix(a, b), shared_prefix(a[::-1], b[::-1]))


@given(master_keys, institution_codes, epochs, serials)
def test_symbol_is_32_characters_of_base32(master_key: bytes, institution: str, epoch: int, serial: str) -> None:
    assert SYMBOL.fullmatch(derive_symbol(master_key, institution, epoch, serial))


@given(master_keys, institution_codes, epochs, serials)
def test_symbol_is_the_same_every_time_for_the_same_inputs(
    master_key: bytes, institution: str, epoch: int, serial: str
) -> None:
    assert derive_symbol(master_key, institution, epoch, serial) == derive_symbol(
        master_key, institution, epoch, serial
    )


@given(master_keys, st.lists(institution_codes, min_size=2, max_size=2, unique=True), epochs, serials)
def test_two_institutions_get_unrelated_symbols_for_the_same_person(
    master_key: bytes, institutions: list[str], epoch: int, serial: str
) -> None:
    first, second = (derive_symbol(master_key, code, epoch, serial) for code in institutions)

    assert first != second
    assert shared_affix(first, second) < 6


@given(master_keys, institution_codes, st.lists(epochs, min_size=2, max_size=2, unique=True), serials)
def test_reissue_in_a_new_epoch_gives_an_unrelated_symbol(
    master_key: bytes, institution: str, two_epochs: list[int], serial: str
) -> None:
    before, after = (derive_symbol(master_key, institution, epoch, serial) for epoch in two_epochs)

    assert before != after
    assert shared_affix(before, after) < 6


@given(st.lists(master_keys, min_size=2, max_size=2, unique=True), institution_codes, epochs, serials)
def test_without_the_master_key_another_key_gives_unrelated_symbols(
    keys: list[bytes], institution: str, epoch: int, serial: str
) -> None:
    real, guessed = (derive_symbol(key, institution, epoch, serial) for key in keys)

    assert real != guessed
    assert shared_affix(real, guessed) < 6


def test_symbols_of_two_institutions_agree_per_character_only_as_often_as_chance() -> None:
    # Fixed key and serials, so this measures one deterministic sample: 4,096 people × 32
    # characters, each agreeing by chance with probability 1/32 (mean 4,096, sd ≈ 63).
    pairs = [
        (derive_symbol(FIXED_MASTER_KEY, "132110", 1, serial), derive_symbol(FIXED_MASTER_KEY, "132136", 1, serial))
        for serial in (f"{n:032x}" for n in range(4096))
    ]

    agreeing = sum(a == b for kodaira, higashimurayama in pairs for a, b in zip(kodaira, higashimurayama, strict=True))
    same_first_four = sum(kodaira[:4] == higashimurayama[:4] for kodaira, higashimurayama in pairs)

    assert 4096 - 400 < agreeing < 4096 + 400
    assert same_first_four <= 2  # expected 4096 / 32**4 ≈ 0.004
    assert max(shared_affix(kodaira, higashimurayama) for kodaira, higashimurayama in pairs) < 6
