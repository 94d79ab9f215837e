"""``$mssante-send`` and ``$withdraw`` on the suite's shared server (no MSSanté operator configured): what is
refused before anything is looked at or written."""

from __future__ import annotations

import httpx
import pytest

from tests.support.validation_lab import issue, parameters


@pytest.mark.req("SGL.MSS.18")
async def test_chosen_sending_without_an_operator_is_a_conflict_SGL_MSS_18(fhir: httpx.AsyncClient) -> None:
    body = {"resourceType": "Parameters", "parameter": [{"name": "address", "valueString": "a@b.mssante.fr"}]}
    answer = await fhir.post("DiagnosticReport/inconnu/$mssante-send", json=body)
    assert answer.status_code == 409 and "not configured" in issue(answer)["diagnostics"]
    bad = await fhir.post("DiagnosticReport/inconnu/$mssante-send", json={"resourceType": "Parameters", "parameter": [
        {"name": "recipient", "valueString": "PractitionerRole/1"}]})
    assert bad.status_code == 400 and "valueReference" in issue(bad)["diagnostics"]  # read before anything else


@pytest.mark.req("SGL.MSS.25")
async def test_only_a_validated_report_is_withdrawn_SGL_MSS_25(fhir: httpx.AsyncClient) -> None:
    created = await fhir.post("DiagnosticReport", json={"resourceType": "DiagnosticReport", "status": "registered",
                                                         "code": {"text": "bilan"}})
    assert created.status_code == 201, created.text
    answer = await fhir.post(f"DiagnosticReport/{created.json()['id']}/$withdraw", json=parameters(reason="erreur"))
    assert answer.status_code == 422 and "VAL-16" in issue(answer)["diagnostics"]
    assert (await fhir.post("DiagnosticReport/inconnu/$withdraw", json=parameters(reason="x"))).status_code == 404
