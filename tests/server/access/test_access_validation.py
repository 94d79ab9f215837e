"""Validation only through its operations (issue 11 item 4): no plain write makes a report final,
a validation names the biologist the authenticated caller acts as (Provenance, resultsInterpreter,
CR-Bio legalAuthenticator and PDF), and a LOINC edit leaves a Provenance naming its author
(SGL.LOI.08, SGL.LOI.09); CR-Bio views are traced (SGL.DOC.12)."""

from __future__ import annotations

import subprocess
from typing import Any

import httpx
import pytest

from server.documents.profile import load_profile
from tests.support.access import BIOLOGIST_DISPLAY, BIOLOGIST_RPPS, ActAs, caller_id
from tests.support.dossiers import validated_report
from tests.support.validation_lab import Lab, parameters

pytestmark = pytest.mark.db


async def _awaiting_biologist(lab: Lab) -> dict[str, Any]:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 141)
    assert (await lab.validate(rid)).status_code == 200
    return await lab.report_of(rid)


@pytest.mark.req("SGL.DOC.12")
async def test_a_plain_write_never_validates_a_report(lab: Lab, act_as: ActAs) -> None:
    report = await _awaiting_biologist(lab)
    forged = await lab.client.put(f"DiagnosticReport/{report['id']}", json={**report, "status": "final"})
    assert forged.status_code == 409 and "VAL-15" in forged.text and "$validate-biological" in forged.text
    created = await lab.client.post("DiagnosticReport", json={**{k: v for k, v in report.items()
                                                                 if k not in ("id", "meta")}, "status": "final"})
    assert created.status_code == 409 and "VAL-15" in created.text
    bundle = await lab.client.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "PUT", "url": f"DiagnosticReport/{report['id']}"},
         "resource": {**report, "status": "amended"}}]})
    assert bundle.status_code == 409
    assert (await lab.read("DiagnosticReport", report["id"]))["status"] == "partial"
    assert (await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological")).status_code == 200
    final = await lab.read("DiagnosticReport", report["id"])
    for answer in (await lab.client.put(f"DiagnosticReport/{report['id']}", json={**final, "conclusion": "réécrit"}),
                   await lab.client.delete(f"DiagnosticReport/{report['id']}")):
        assert answer.status_code == 409 and "$correct" in answer.text
    assert (await lab.read("DiagnosticReport", report["id"]))["meta"] == final["meta"]


async def test_a_biologist_without_an_rpps_identified_practitioner_cannot_validate(lab: Lab, act_as: ActAs) -> None:
    report = await _awaiting_biologist(lab)
    anonymous_bio = await act_as("biologiste")
    refused = await anonymous_bio.post(f"DiagnosticReport/{report['id']}/$validate-biological")
    assert refused.status_code == 403 and "VAL-13" in refused.text and "RPPS" in refused.text
    admin = await act_as("administrateur")
    nobody = await admin.post("Practitioner", json={"resourceType": "Practitioner", "name": [{"family": "SANSRPPS"}]})
    without_rpps = await act_as("biologiste", practitioner=f"Practitioner/{nobody.json()['id']}")
    refused = await without_rpps.post(f"DiagnosticReport/{report['id']}/$validate-biological")
    assert refused.status_code == 403 and "no RPPS identifier" in refused.text
    assert (await lab.read("DiagnosticReport", report["id"]))["status"] == "partial"


@pytest.mark.req("SGL.DOC.12")
async def test_the_validation_names_the_biologist_in_provenance_cda_and_pdf_SGL_DOC_12(
        lab: Lab, act_as: ActAs, fhir: httpx.AsyncClient) -> None:
    _, report, _ = await validated_report(lab, {"UREA": 5.9})
    assert report["status"] == "final"
    interpreter = report["resultsInterpreter"][0]
    assert interpreter["display"] == BIOLOGIST_DISPLAY and interpreter["reference"] == act_as.biologist_ref
    provenances = (await fhir.get("Provenance", params={"target": f"DiagnosticReport/{report['id']}"})).json()
    biological = [e["resource"] for e in provenances["entry"]
                  if e["resource"]["activity"]["coding"][0]["code"] == "biological-validation"]
    assert biological and biological[-1]["agent"][0]["who"]["reference"] == act_as.biologist_ref
    assert biological[-1]["agent"][0]["who"]["identifier"]["value"] == caller_id(lab.client)
    n3 = (await fhir.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": "n3"})).text
    legal = n3.split("<legalAuthenticator>", 1)[1].split("</legalAuthenticator>", 1)[0]
    assert f'extension="8{BIOLOGIST_RPPS}"' in legal and "VALIDEUR" in legal and "G15_10/SM03" in legal
    assert load_profile().responsible_biologist["rpps"] not in legal
    pdf = (await fhir.get(f"DiagnosticReport/{report['id']}/$cr-bio")).content
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True,
                                   timeout=60).stdout.decode().split())
    assert BIOLOGIST_DISPLAY in text and "sgl-local" not in text
    views = (await fhir.get("AuditEvent", params={"entity": f"DiagnosticReport/{report['id']}"})).json()
    traced = [e["resource"] for e in views.get("entry", [])]
    assert len(traced) >= 2 and all(e["agent"][0]["who"]["identifier"]["value"] == caller_id(fhir) for e in traced)
    assert any("format=n3" in str(e["entity"]) for e in traced)


@pytest.mark.req("SGL.LOI.08")
@pytest.mark.req("SGL.LOI.09")
async def test_a_loinc_edit_is_a_provenance_naming_its_author_SGL_LOI_08_09(fhir: httpx.AsyncClient,
                                                                            act_as: ActAs) -> None:
    ref = "ObservationDefinition/analysis-URIC"
    before = (await fhir.get(ref)).json()
    tech = await act_as("technicien")
    refused = await tech.post(f"{ref}/$set-loinc", json=parameters(code="3084-1", display="Urate"))
    assert refused.status_code == 403
    edited = await fhir.post(f"{ref}/$set-loinc", json={"resourceType": "Parameters", "parameter": [
        {"name": "code", "valueString": "3084-1"}, {"name": "display", "valueString": "Urate Sér/Plas"}]})
    assert edited.status_code == 200, edited.text
    version = edited.json()["meta"]["versionId"]
    assert version != before["meta"]["versionId"]
    traces = (await fhir.get("Provenance", params={"target": ref})).json()
    mine = [e["resource"] for e in traces["entry"]
            if {"reference": f"{ref}/_history/{version}"} in e["resource"]["target"]]
    assert mine, traces
    assert mine[0]["agent"][0]["who"]["identifier"]["value"] == caller_id(fhir)
    assert "SGL.LOI.08" in mine[0]["reason"][0]["text"] and mine[0]["recorded"]
    back = await fhir.post(f"{ref}/$set-loinc", json={"resourceType": "Parameters", "parameter": [
        {"name": "code", "valueString": "14933-6"}, {"name": "display", "valueString": "Urate Sér/Plas"}]})
    assert back.status_code == 200
