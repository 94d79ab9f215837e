"""``ExactDecimal`` prints the digits as sent; format specs and arithmetic stay the float's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from resources.decimals import ExactDecimal, json_number


@pytest.mark.parametrize(("sent", "printed"), [("5.10", "5.10"), ("1.0E-3", "0.0010"), ("-0", "-0"),
                                               ("123456789012345678901234.5", "123456789012345678901234.5")])
def test_text_of_an_exact_decimal_is_the_digits_as_sent(sent: str, printed: str) -> None:
    """Session 7's probe: ``str()`` printed the float (``5.10`` read ``5.1``), so f-strings in worklist labels,
    delta-check notes and logs showed other digits than the instrument sent."""
    value = json_number(sent)
    assert isinstance(value, ExactDecimal)
    assert str(value) == repr(value) == f"{value}" == f"{value!s}" == printed
    assert f"{[value]}" == f"[{printed}]" and Decimal(str(value)) == Decimal(sent)


def test_format_specs_and_arithmetic_stay_the_float_s() -> None:
    value = ExactDecimal("5.10")
    assert f"{value:.1f}" == "5.1" and f"{value:+.3f}" == "+5.100" and f"{value:8.2f}" == "    5.10"
    assert value + 1 == 6.1 and type(value + 1) is float and str(value * 2) == "10.2"
