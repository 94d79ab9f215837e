"""HL7 DTM values from clocks and FHIR dates."""

from datetime import datetime, timedelta, timezone

import pytest

from facades.hl7v2.timestamps import from_fhir, hl7_timestamp
from resources.errors import InvalidInput


def test_clock_timestamp_has_seconds_and_offset() -> None:
    moment = datetime(2024, 3, 6, 11, 11, 54, tzinfo=timezone(timedelta(hours=1)))
    assert hl7_timestamp(moment) == "20240306111154+0100"
    assert len(hl7_timestamp()) == 19


@pytest.mark.parametrize(("fhir", "hl7"), [
    ("1979", "1979"), ("1979-03", "197903"), ("1979-03-28", "19790328"),
    ("2024-03-06T11:11", "202403061111"), ("2024-03-06T11:11:53.120+01:00", "20240306111153+0100"),
    ("2024-03-06T11:11:53Z", "20240306111153+0000"),
])
def test_fhir_values_keep_their_precision(fhir: str, hl7: str) -> None:
    assert from_fhir(fhir, expression="x") == hl7


def test_malformed_fhir_date_names_its_path() -> None:
    with pytest.raises(InvalidInput) as info:
        from_fhir("06/03/2024", expression="Patient.birthDate")
    assert info.value.expression == ["Patient.birthDate"]
