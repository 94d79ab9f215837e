"""Manual import of a subcontractor's CR-Bio (N3, N1, PDF) into a patient file, and its results in our report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from facades.cda import read_crbio, validate_cda
from facades.cda.conformance.kit import default_kit
from tests.support.documents_wait import crbio
from tests.support.dossiers import patient, validated_report
from tests.support.validation_lab import Lab, parameters

EXAMPLES = default_kit().root / "ExemplesCDA"
TSH = EXAMPLES / "BIO-CR-BIO_2024.01_TSH_1.xml"


async def _import(lab: Lab, pid: str, body: bytes) -> dict[str, Any]:
    answer = await lab.client.post(f"Patient/{pid}/$import-crbio", content=body)
    assert answer.status_code == 201, answer.text
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"] for e in answer.json()["entry"]}


async def _patient_documents(lab: Lab, pid: str) -> list[dict[str, Any]]:
    answer = await lab.client.get("DocumentReference", params={"patient": f"Patient/{pid}"})
    return [e["resource"] for e in answer.json().get("entry", ()) if e["search"]["mode"] == "match"]


@pytest.mark.req("SGL.DOC.22")
@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("BIO-CR-BIO_2024.01_*.xml")), ids=lambda p: p.stem)
async def test_every_ans_example_imports_into_the_patient_file_SGL_DOC_22(doc_lab: Lab, example: Path) -> None:
    pid = await patient(doc_lab)
    stored = await _import(doc_lab, pid, example.read_bytes())
    read = read_crbio(example.read_bytes())
    [reference] = [r for r in stored.values() if r["resourceType"] == "DocumentReference"]
    assert reference["subject"] == {"reference": f"Patient/{pid}"} and reference["status"] == "current"
    assert reference["category"][0]["coding"][0]["code"] == "subcontracted"  # never delivered as such (DOC.14)
    author = stored[reference["author"][0]["reference"]]
    assert author["resourceType"] == "Organization" and author["name"] == read.organizations[0]["name"]
    assert reference["content"][0]["format"]["code"] == "urn:ihe:lab:xd-lab:2008"
    original = await doc_lab.client.get(reference["content"][0]["attachment"]["url"])
    assert original.status_code == 200
    observations = [r for r in stored.values() if r["resourceType"] == "Observation"]
    assert len(observations) == len(read.observations)
    for observation in observations:
        assert observation["subject"] == {"reference": f"Patient/{pid}"}
        assert observation["derivedFrom"] == [{"reference": f"DocumentReference/{reference['id']}"}]
        for performer in observation.get("performer", ()):
            assert stored[performer["reference"]]["resourceType"] == "Organization"
        for member in observation.get("hasMember", ()):
            assert member["reference"] in stored


@pytest.mark.req("SGL.DOC.22")
async def test_n1_and_pdf_import_and_bad_input_stores_nothing_SGL_DOC_22(doc_lab: Lab) -> None:
    _, report, _ = await validated_report(doc_lab, {"NA": 139})
    n1 = (await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": "n1"})).content
    pdf = read_crbio(TSH.read_bytes()).pdf
    assert pdf is not None
    pid = await patient(doc_lab)
    from_n1 = await _import(doc_lab, pid, n1)
    from_pdf = await _import(doc_lab, pid, pdf)
    formats = {r["content"][0]["format"]["code"] for s in (from_n1, from_pdf) for r in s.values()
               if r["resourceType"] == "DocumentReference"}
    assert formats == {"urn:ihe:iti:xds-sd:pdf:2008", "pdf-a-1b"}
    assert not [r for s in (from_n1, from_pdf) for r in s.values() if r["resourceType"] == "Observation"]

    other = await patient(doc_lab)
    bad = await doc_lab.client.post(f"Patient/{other}/$import-crbio", content=b"<html>not a CR-Bio</html>")
    assert bad.status_code == 400 and "not a CR-Bio" in bad.json()["issue"][0]["diagnostics"]
    assert await _patient_documents(doc_lab, other) == []
    missing = await doc_lab.client.post("Patient/no-such-patient/$import-crbio", content=TSH.read_bytes())
    assert missing.status_code == 404


@pytest.mark.req("SGL.DOC.13")
@pytest.mark.req("SGL.DOC.14")
async def test_subcontracted_results_appear_in_our_report_naming_the_executing_lab_SGL_DOC_13_SGL_DOC_14(
        doc_lab: Lab) -> None:
    pid = await patient(doc_lab)
    read = read_crbio(TSH.read_bytes())
    order = await doc_lab.client.post("ServiceRequest", json={
        "resourceType": "ServiceRequest", "status": "active", "intent": "order", "code": {"text": "bilan"},
        "subject": {"reference": f"Patient/{pid}"},
        "requisition": {"system": "https://opensgl.org/sid/demande", "value": read.order_number}})
    assert order.status_code == 201
    sodium = await doc_lab.result(pid, order.json()["id"], "NA", 141)
    stored = await _import(doc_lab, pid, TSH.read_bytes())
    imported = [r for r in stored.values() if r["resourceType"] == "Observation"]
    assert all(o["basedOn"] == [{"reference": f"ServiceRequest/{order.json()['id']}"}] for o in imported)
    assert (await doc_lab.validate(sodium)).status_code == 200
    report = await doc_lab.report_of(sodium)
    answer = await doc_lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    listed = {r["reference"] for r in answer.json()["result"]}
    assert {f"Observation/{o['id']}" for o in imported if not o.get("hasMember")} <= listed | {
        m["reference"] for o in imported for m in o.get("hasMember", ())}
    n3 = (await crbio(doc_lab.client, report["id"], "n3")).content
    assert validate_cda(n3, level="N3").errors == []
    lab_name = read.organizations[0]["name"]
    assert lab_name.encode() in n3
    # the subcontractor's own document stays on the file: ours embeds only its own PDF copy, no link, no image
    document = etree.fromstring(n3).find(".//{urn:hl7-org:v3}ClinicalDocument")
    assert document is not None
    assert len(document.findall(".//{urn:hl7-org:v3}observationMedia")) == 1
    assert document.findall(".//{urn:hl7-org:v3}linkHtml") == []
    docs = await _patient_documents(doc_lab, pid)
    related = [{"reference": f"DiagnosticReport/{report['id']}"}]
    ours = [d for d in docs if d.get("context", {}).get("related") == related]
    assert {d["content"][0]["format"]["code"] for d in ours} == {"urn:ihe:lab:xd-lab:2008",
                                                                 "urn:ihe:iti:xds-sd:pdf:2008", "pdf-a-1b"}
