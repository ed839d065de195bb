"""The individual number's check digit (個人番号の検査用数字, 総務省令 第5条).

Digits P1..P11 counted from the right of the first eleven; weights Qn = n+1 for n ≤ 6 and
n−5 for 7 ≤ n ≤ 11; check = 11 − (Σ Pn·Qn mod 11), or 0 when that remainder is 0 or 1.
"""

from operator import mul

WEIGHTS = tuple(n + 1 if n <= 6 else n - 5 for n in range(1, 12))  # Q1..Q11, from the right
_LEFT_TO_RIGHT = WEIGHTS[::-1]
_ASCII_ZERO_TOTAL = ord("0") * sum(WEIGHTS)


def check_digit(first_eleven: str) -> int:
    if len(first_eleven) != 11 or not first_eleven.isascii() or not first_eleven.isdigit():
        raise ValueError("the check digit is computed over exactly 11 ASCII digits")
    # Σ Pn·Qn over the ASCII codes, less the codes' zero offset: the same sum, at C speed.
    remainder = (sum(map(mul, first_eleven.encode(), _LEFT_TO_RIGHT)) - _ASCII_ZERO_TOTAL) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_individual_number(candidate: str) -> bool:
    if len(candidate) != 12 or not candidate.isascii() or not candidate.isdigit():
        return False
    return check_digit(candidate[:11]) == int(candidate[11])
