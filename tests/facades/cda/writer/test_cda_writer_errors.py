"""Bad writer input is refused with the FHIR element at fault (observation.py, model.py, body.py, header.py)."""

from __future__ import annotations

from typing import Any

import pytest

from facades.cda.writer import write_n3
from resources.errors import InvalidInput
from tests.support import crbio_samples as s


def refused(observations: list[dict[str, Any]], **extra: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        write_n3(s.crbio_input(observations, **extra))
    return caught.value


def test_result_without_a_usable_code_names_the_result() -> None:
    results = s.biochemistry()
    results[1]["code"] = {"text": "FT4"}
    error = refused(results)
    assert error.expression == ["DiagnosticReport.result[1].code"]


def test_interpretation_outside_the_cisis_value_set_is_refused() -> None:
    results = s.biochemistry()
    results[0]["interpretation"] = [{"coding": [{"code": "ZZ"}]}]
    error = refused(results)
    assert error.expression == ["DiagnosticReport.result[0].interpretation[0]"]
    assert "JDV_HL7_ObservationInterpretation_CISIS" in error.diagnostics


def test_unsupported_value_type_is_refused() -> None:
    results = s.biochemistry()
    del results[2]["valueQuantity"]
    results[2]["valueRatio"] = {"numerator": {"value": 1}}
    assert refused(results).expression == ["DiagnosticReport.result[2].valueRatio"]


def test_reference_to_a_resource_not_given_is_refused() -> None:
    error = refused(s.biochemistry(), results=["tsh", "missing"])
    assert error.expression == ["DiagnosticReport.result[1]"]
    assert "Observation/missing" in error.diagnostics


def test_n3_without_its_pdf_copy_is_refused() -> None:
    assert refused(s.biochemistry(), pdf=None).expression == ["CrBioInput.pdf"]


def test_bad_date_names_its_element() -> None:
    results = s.biochemistry()
    results[0]["effectiveDateTime"] = "04/01/2024"
    assert refused(results).expression == ["DiagnosticReport.result[0].effectiveDateTime"]


def test_report_still_registered_without_validated_result_is_refused() -> None:
    results = s.biochemistry()
    for result in results:
        result["status"] = "preliminary"
    assert refused(results, status="partial").expression == ["DiagnosticReport.result"]


def test_unknown_confidentiality_is_refused() -> None:
    assert refused(s.biochemistry(), confidentiality="X").expression == ["CrBioInput.confidentiality"]


def test_bad_specimen_time_names_the_specimen() -> None:
    bad = s.specimen()
    bad["receivedTime"] = "hier"
    assert refused(s.biochemistry(), specimens=[bad]).expression == ["Specimen/sp1.receivedTime"]


def test_bad_member_reference_names_the_member() -> None:
    results = s.haematology()
    results[0]["hasMember"][1] = {"reference": "Observation/nope"}
    error = refused(results, results=["nfs"], specimens=[s.specimen("sp2", "BLD", "Sang")])
    assert error.expression == ["DiagnosticReport.result[0].hasMember[1]"]
