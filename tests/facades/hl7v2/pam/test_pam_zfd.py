"""ZFD: lunar birth date, corrected-date flag, how the identity was collected."""

from __future__ import annotations

import pytest

from facades.hl7v2 import Hl7ParseError, parse
from facades.hl7v2.pam import read_identity_change
from tests.support.pam_samples import adt, pid


@pytest.mark.parametrize(("zfd1", "expected"), [("00^00^1979", "1979"), ("00^03^1979", "1979-03"),
                                                 ("28^03^1979", "1979-03-28"), ("15^00^1979", "1979")])
def test_a_lunar_date_in_zfd_1_becomes_a_partial_birth_date(zfd1, expected) -> None:
    change = read_identity_change(parse(adt("A28", "Z1", pid(birth_date=""), f"ZFD|{zfd1}|||Y")))
    assert change.traits.birth_date == expected and change.traits.birth_date_corrected is True


def test_pid_7_wins_over_zfd_1_and_the_collection_is_read() -> None:
    change = read_identity_change(parse(adt("A28", "Z2", pid(), "ZFD|00^00^1979||Y|N|INSI|20211201|CN")))
    assert change.traits.birth_date == "1979-03-28" and change.traits.birth_date_corrected is False
    c = change.collection
    assert (c.method, c.insi_date, c.proof) == ("INSI", "2021-12-01", "CN")


@pytest.mark.parametrize("zfd1", ["00^13^1979", "aa^03^1979", "01^01^79"])
def test_a_bad_lunar_date_names_zfd_1(zfd1) -> None:
    with pytest.raises(Hl7ParseError) as err:
        read_identity_change(parse(adt("A28", "Z3", pid(birth_date=""), f"ZFD|{zfd1}")))
    assert err.value.location.expression() == "ZFD[1]-1"


def test_without_zfd_nothing_is_invented() -> None:
    change = read_identity_change(parse(adt("A28", "Z4", pid(birth_date=""))))
    assert change.traits.birth_date is None and change.traits.birth_date_corrected is None
    assert change.collection.method is None
