"""Dossier matrix written through the plain REST API: a final report PUT directly gets its documents too.

Haematology (battery), microbiology (isolate + antibiogram) and a result of a subcontractor named
in ``performer``: each report's N3, N1 and PDF pass the ANS validator and the PDF/A checks.
"""

from __future__ import annotations

import copy
import json
import subprocess
import uuid
from typing import Any

import pytest

from facades.cda import validate_cda
from facades.pdf import check_pdfa1b
from tests.support import crbio_samples as samples
from tests.support.documents_wait import crbio, documents_status
from tests.support.dossiers import patient
from tests.support.validation_lab import Lab

DOSSIERS = {
    "biochemistry": samples.biochemistry,
    "haematology": samples.haematology,
    "microbiology": samples.microbiology,
    "subcontracted": samples.subcontracted,
}


def _renamed(resource: dict[str, Any], prefix: str, pid: str) -> dict[str, Any]:
    """The sample with ids made unique on the session server and the subject set."""
    text = json.dumps(resource)
    for kind in ("Observation", "Specimen", "Organization"):
        text = text.replace(f'"{kind}/', f'"{kind}/{prefix}-')
    out = json.loads(text)
    out["id"] = f"{prefix}-{out['id']}"
    if out["resourceType"] in ("Observation", "Specimen"):
        out["subject"] = {"reference": f"Patient/{pid}"}
    if out["resourceType"] == "Specimen":
        out["status"] = "available"
    return dict(out)


def _members_first(observations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Observations in an order where each panel comes after its members: the server refuses a ``hasMember``
    that names nothing yet (referential integrity on write)."""
    by_ref = {f"Observation/{o['id']}": o for o in observations}
    out: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(o: dict[str, Any]) -> None:
        if o["id"] in placed:
            return
        placed.add(o["id"])
        for member in o.get("hasMember", ()):
            if member["reference"] in by_ref:
                place(by_ref[member["reference"]])
        out.append(o)
    for o in observations:
        place(o)
    return out


async def _put(lab: Lab, resource: dict[str, Any]) -> dict[str, Any]:
    answer = await lab.client.put(f"{resource['resourceType']}/{resource['id']}", json=resource)
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


@pytest.mark.req("SGL.DOC.01")
@pytest.mark.req("SGL.DOC.13")
@pytest.mark.parametrize("name", sorted(DOSSIERS))
async def test_report_of_each_discipline_has_conformant_documents_SGL_DOC_01_SGL_DOC_13(doc_lab: Lab,
                                                                                       name: str) -> None:
    pid, prefix = await patient(doc_lab), uuid.uuid4().hex[:8]
    observations = DOSSIERS[name]()
    specimens = [samples.specimen(), samples.specimen("sp2", "BLD", "Sang"), samples.specimen("sp3", "UR", "Urine")]
    for resource in [samples.subcontractor(), *specimens, *_members_first(copy.deepcopy(observations))]:
        await _put(doc_lab, _renamed(resource, prefix, pid))
    members = {m["reference"] for o in observations for m in o.get("hasMember", ())}
    top = [o["id"] for o in observations if f"Observation/{o['id']}" not in members]
    report = _renamed(samples.report(top), prefix, pid)
    report["subject"] = {"reference": f"Patient/{pid}"}
    # A final report is written only by $validate-biological (VAL-15), which needs our own analyzer results: the
    # sample report is stored under the guards' feet and its documents are asked for with $produce-documents.
    report["id"] = (await doc_lab.store.create(report)).id
    asked = await doc_lab.client.post(f"DiagnosticReport/{report['id']}/$produce-documents")
    assert asked.status_code == 200, asked.text
    for fmt, level in (("n3", "N3"), ("n1", "N1")):
        answer = await crbio(doc_lab.client, report["id"], fmt)
        assert answer.status_code == 200
        assert validate_cda(answer.content, level=level).errors == []  # type: ignore[arg-type]
    pdf = (await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio")).content
    assert check_pdfa1b(pdf) == []
    assert len((await doc_lab.read("DiagnosticReport", report["id"]))["presentedForm"]) == 3
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60).stdout
    if name == "subcontracted":
        assert "Cerba-Test" in " ".join(text.decode().split())
    if name == "microbiology":
        assert "Escherichia coli" in text.decode() and "Gentamicine" in text.decode()


@pytest.mark.req("SGL.DOC.12")
async def test_validated_report_without_documents_gets_them_on_request_and_a_get_never_writes_SGL_DOC_12(
        doc_lab: Lab) -> None:
    pid, prefix = await patient(doc_lab), uuid.uuid4().hex[:8]
    for resource in [samples.specimen(), *samples.biochemistry()]:
        await _put(doc_lab, _renamed(resource, prefix, pid))
    report = _renamed(samples.report(["tsh", "ft4", "glu"]), prefix, pid)
    report["subject"] = {"reference": f"Patient/{pid}"}
    report["id"] = (await doc_lab.store.create(report)).id  # under the write rules' feet, as before documents existed
    stored = await doc_lab.read("DiagnosticReport", report["id"])
    assert "presentedForm" not in stored
    refused = await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": "n1"})
    assert refused.status_code == 422 and "$produce-documents" in refused.json()["issue"][0]["diagnostics"]
    assert (await doc_lab.read("DiagnosticReport", report["id"]))["meta"] == stored["meta"]  # the GET wrote nothing
    asked = await doc_lab.client.post(f"DiagnosticReport/{report['id']}/$produce-documents")
    assert asked.status_code == 200 and documents_status(asked.json())["status"] == "in-progress"
    answer = await crbio(doc_lab.client, report["id"], "n1")
    assert answer.status_code == 200 and answer.headers["content-disposition"].endswith('_V1_N1.xml"')
    assert validate_cda(answer.content, level="N1").errors == []
    assert len((await doc_lab.read("DiagnosticReport", report["id"]))["presentedForm"]) == 3
