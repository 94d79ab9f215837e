"""LOINC syntax and mod-10 check digit (terminology/loinc.py)."""

from __future__ import annotations

import pytest

from terminology.errors import InvalidCode
from terminology.loinc import check_loinc, is_loinc_shaped, is_valid_loinc, loinc_check_digit


@pytest.mark.parametrize("code", ["2345-7", "14749-6", "2160-0", "2951-2", "2823-3", "718-7", "6690-2", "777-3",
                                  "5902-2", "6301-6", "3016-3", "1988-5", "11502-2", "28-1", "20-8", "101792-0"])
def test_well_known_loinc_codes_pass_their_check_digit(code: str) -> None:
    assert is_valid_loinc(code)
    assert check_loinc(f" {code} ") == code


def test_check_digit_is_the_luhn_digit_of_the_number_part() -> None:
    assert loinc_check_digit("2345") == 7
    assert loinc_check_digit("11502") == 2
    assert loinc_check_digit("28") == 1


@pytest.mark.parametrize("code", ["2345-8", "2160-1", "718-0", "14749-9"])
def test_a_wrong_check_digit_is_refused_with_the_expected_digit(code: str) -> None:
    assert not is_valid_loinc(code)
    with pytest.raises(InvalidCode) as err:
        check_loinc(code, expression="Observation.code")
    assert "expected" in err.value.diagnostics
    assert err.value.expression == ["Observation.code"]


@pytest.mark.parametrize("value", ["", "2345", "2345-", "-7", "2345-77", "LP1234-5", "2345–7", "12345678-9"])
def test_malformed_codes_are_not_loinc_shaped(value: str) -> None:
    assert not is_loinc_shaped(value)
    with pytest.raises(InvalidCode):
        check_loinc(value)


def test_single_digit_transposition_is_caught() -> None:
    assert is_valid_loinc("2345-7") and not is_valid_loinc("2435-7")
