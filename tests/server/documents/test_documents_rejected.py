"""A document the ANS validator rejects is never stored: the validation step is refused with the findings."""

from __future__ import annotations

import pytest

from tests.server.documents.dossiers import patient
from tests.support.validation_lab import Lab, parameters


@pytest.mark.req("SGL.DOC.01")
async def test_nonconformant_cda_refuses_the_validation_and_stores_nothing_SGL_DOC_01(doc_lab: Lab) -> None:
    pid = await patient(doc_lab)
    (request,) = await doc_lab.order(pid)
    # the seed catalogue's unit for DFG, mL/min/{1.73_m2}, is not in the UCUM list of the ANS terminology check
    rid = await doc_lab.result(pid, request, "DFG", 90)
    assert (await doc_lab.validate(rid)).status_code == 200
    report = await doc_lab.report_of(rid)
    answer = await doc_lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 422
    outcome = answer.json()
    assert "[SGL.DOC.01]" in outcome["issue"][0]["diagnostics"] and "UCUM" in outcome["issue"][0]["diagnostics"]
    assert any("cda:observation" in e for e in outcome["issue"][0]["expression"])
    after = await doc_lab.read("DiagnosticReport", report["id"])
    assert after["status"] == "partial" and after["meta"]["versionId"] == report["meta"]["versionId"]
    assert "presentedForm" not in after
    assert (await doc_lab.read("Observation", rid))["status"] == "preliminary"
    refs = await doc_lab.client.get("DocumentReference", params={"related": f"DiagnosticReport/{report['id']}"})
    assert not [e for e in refs.json().get("entry", ()) if e["search"]["mode"] == "match"]
    binary = await doc_lab.client.get(f"Binary/{report['id']}-pdf-v1")
    assert binary.status_code in (404, 410)
    crbio = await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio")
    assert crbio.status_code == 422 and "[SGL.DOC.12]" in crbio.json()["issue"][0]["diagnostics"]
