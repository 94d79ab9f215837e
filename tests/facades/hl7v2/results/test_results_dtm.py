"""HL7 DTM -> FHIR dateTime, precision kept, local times read in the lab's zone."""

from __future__ import annotations

from datetime import UTC

import pytest

from facades.hl7v2 import ErrorLocation, Hl7ParseError
from facades.hl7v2.results import fhir_datetime

OBX14 = ErrorLocation("OBX", 2, 14)


@pytest.mark.parametrize(("dtm", "expected"), [
    ("2026", "2026"), ("202611", "2026-11"), ("20261126", "2026-11-26"),
    ("202611261015", "2026-11-26T10:15:00+01:00"),
    ("20260715101502", "2026-07-15T10:15:02+02:00"),  # summer time in Paris
    ("20261126101502.123-0500", "2026-11-26T10:15:02-05:00"), ("", ""),
])
def test_precision_and_zone_are_kept(dtm: str, expected: str) -> None:
    assert fhir_datetime(dtm, OBX14) == expected


def test_another_lab_zone_can_be_given() -> None:
    assert fhir_datetime("20261126101502", OBX14, zone=UTC) == "2026-11-26T10:15:02+00:00"


@pytest.mark.parametrize("dtm", ["2026-11-26", "20261326", "20260230101500", "20261126106100"])
def test_invalid_values_name_the_field(dtm: str) -> None:
    with pytest.raises(Hl7ParseError) as err:
        fhir_datetime(dtm, OBX14)
    assert err.value.location == OBX14 and err.value.code == 102
