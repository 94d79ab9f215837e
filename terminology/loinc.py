"""LOINC code syntax and its mod-10 check digit.

A LOINC code is ``<digits>-<check digit>``; the check digit is the Luhn (mod 10) digit of the
numeric part, as the LOINC users' guide describes. Checking it catches most typing and
transcription errors in a transcoding file before they reach a report.
"""

from __future__ import annotations

import re

from resources.codes import LOINC_SYSTEM as LOINC_SYSTEM  # defined once in resources, re-exported
from terminology.errors import InvalidCode

LOINC_OID = "2.16.840.1.113883.6.1"
_SHAPE = re.compile(r"^(\d{1,7})-(\d)$")


def loinc_check_digit(number: str) -> int:
    """The mod-10 check digit of the numeric part of a LOINC code (``"2345"`` -> 7)."""
    if not number.isdigit():
        raise InvalidCode(f"LOINC number part {number!r} must be digits")
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 0:  # rightmost digit and every second one leftwards are doubled
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10


def is_loinc_shaped(value: str) -> bool:
    """True when ``value`` looks like a LOINC code, whatever its check digit."""
    return bool(_SHAPE.match(value.strip()))


def is_valid_loinc(value: str) -> bool:
    """True when ``value`` is a LOINC code whose check digit is right."""
    match = _SHAPE.match(value.strip())
    return match is not None and loinc_check_digit(match.group(1)) == int(match.group(2))


def check_loinc(value: str, *, expression: str = "code") -> str:
    """Return the stripped code, or raise ``InvalidCode`` naming the spot and the expected digit."""
    code = (value or "").strip()
    match = _SHAPE.match(code)
    if not match:
        raise InvalidCode(f"{value!r} is not a LOINC code (digits, '-', one check digit)",
                          expression=expression)
    expected = loinc_check_digit(match.group(1))
    if expected != int(match.group(2)):
        raise InvalidCode(f"LOINC code {code} has check digit {match.group(2)}, expected {expected}",
                          expression=expression)
    return code
