"""A document the ANS validator rejects is never stored: the validation stands, the failure is a worklist Task."""

from __future__ import annotations

import pytest

from tests.support.documents_wait import documents_status, wait_for_documents
from tests.support.dossiers import patient
from tests.support.validation_lab import Lab, parameters
from tests.support.worklist import worklist


@pytest.mark.req("SGL.DOC.01")
async def test_nonconformant_cda_is_not_stored_and_becomes_a_worklist_task_SGL_DOC_01(doc_lab: Lab) -> None:
    pid = await patient(doc_lab)
    (request,) = await doc_lab.order(pid)
    # the seed catalogue's unit for DFG, mL/min/{1.73_m2}, is not in the UCUM list of the ANS terminology check
    rid = await doc_lab.result(pid, request, "DFG", 90)
    assert (await doc_lab.validate(rid)).status_code == 200
    report = await doc_lab.report_of(rid)
    answer = await doc_lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    said = documents_status(answer.json())  # the validation answer says the document is on its way, and where
    assert said["status"] == "in-progress" and said["location"] == f"DiagnosticReport/{report['id']}/$cr-bio"
    after = await wait_for_documents(doc_lab.client, report["id"], expect="failed")
    reason = documents_status(after)["reason"]
    assert "[SGL.DOC.01]" in reason and "UCUM" in reason and "cda:observation" in reason
    assert after["status"] == "final" and "presentedForm" not in after
    [task] = await worklist(doc_lab.client, "document-production-failed", f"DiagnosticReport/{report['id']}")
    assert task["status"] == "requested" and task["for"]["reference"] == f"Patient/{pid}"
    assert "UCUM" in task["description"]
    refs = await doc_lab.client.get("DocumentReference", params={"related": f"DiagnosticReport/{report['id']}"})
    assert not [e for e in refs.json().get("entry", ()) if e["search"]["mode"] == "match"]
    binary = await doc_lab.client.get(f"Binary/{report['id']}-pdf-v1")
    assert binary.status_code in (404, 410)
    crbio = await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio")
    assert crbio.status_code == 422 and "[SGL.DOC.12]" in crbio.json()["issue"][0]["diagnostics"]
