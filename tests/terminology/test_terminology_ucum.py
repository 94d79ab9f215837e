"""UCUM syntax check (terminology/ucum.py)."""

from __future__ import annotations

import pytest

from terminology.ucum import is_valid_ucum, ucum_error


@pytest.mark.parametrize("unit", ["g/L", "mmol/L", "umol/L", "10*9/L", "10*12/L", "%", "fL", "pg", "g/dL", "m[IU]/L",
                                  "[IU]/L", "U/L", "mL/min/{1.73_m2}", "{INR}", "ng/mL{FEU}", "g/(24.h)", "/mL",
                                  "mm/h", "mmol/mol", "[pH]", "kg.m-2", "[arb'U]/mL", "mm[Hg]", "s"])
def test_units_used_in_biology_are_valid_ucum(unit: str) -> None:
    assert ucum_error(unit) is None


@pytest.mark.parametrize("unit", ["UI/L", "µmol/L", "mmol\\L", "g/", "(g/L", "10*9L", "mmol /L", "", "g/{x",
                                  "G/l/", "mg/dl/"])
def test_display_units_and_typos_are_refused_with_a_reason(unit: str) -> None:
    assert not is_valid_ucum(unit)
    assert ucum_error(unit)


def test_error_names_the_position_of_the_bad_atom() -> None:
    assert "position 5" in (ucum_error("mmol/UI") or "")
