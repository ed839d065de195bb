"""The individual number's check digit (検査用数字), checked against python-stdnum as an oracle."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.jp import in_ as stdnum_individual_number

from jlis.numbers.check_digit import check_digit, is_valid_individual_number

eleven_digits = st.text("0123456789", min_size=11, max_size=11)
twelve_digits = st.text("0123456789", min_size=12, max_size=12)


@given(eleven_digits)
def test_check_digit_agrees_with_stdnum(first_eleven: str) -> None:
    assert check_digit(first_eleven) == int(stdnum_individual_number.calc_check_digit(first_eleven))


def test_published_example_number_is_valid() -> None:
    # The example in python-stdnum's documentation: 6214 9832 0257.
    assert check_digit("62149832025") == 7
    assert is_valid_individual_number("621498320257")


@given(eleven_digits)
def test_number_with_its_check_digit_is_valid_and_with_any_other_digit_is_not(first_eleven: str) -> None:
    right = check_digit(first_eleven)
    assert is_valid_individual_number(f"{first_eleven}{right}")
    for wrong in set(range(10)) - {right}:
        assert not is_valid_individual_number(f"{first_eleven}{wrong}")


@given(twelve_digits)
def test_validity_agrees_with_stdnum(candidate: str) -> None:
    assert is_valid_individual_number(candidate) == stdnum_individual_number.is_valid(candidate)


NON_ASCII_DIGITS = {
    "full-width": "６２１４９８３２０２５７",
    "arabic-indic": "٦٢١٤٩٨٣٢٠٢٥٧",
    "devanagari": "६२१४९८३२०२५७",
    "superscript-last": "62149832025⁷",
}


@pytest.mark.parametrize("candidate", NON_ASCII_DIGITS.values(), ids=NON_ASCII_DIGITS.keys())
def test_digits_other_than_ascii_are_not_a_valid_number(candidate: str) -> None:
    assert not is_valid_individual_number(candidate)


@pytest.mark.parametrize(
    "candidate",
    ["", "62149832025", "6214983202570", "6214 9832 0257", "6214-9832-0257", " 621498320257", "62149832025X"],
)
def test_wrong_length_or_separators_are_not_a_valid_number(candidate: str) -> None:
    assert not is_valid_individual_number(candidate)


@pytest.mark.parametrize("first_eleven", ["", "6214983202", "621498320257", "６２１４９８３２０２５", "6214983202a"])
def test_check_digit_refuses_anything_but_eleven_ascii_digits(first_eleven: str) -> None:
    with pytest.raises(ValueError, match="11 ASCII digits"):
        check_digit(first_eleven)
