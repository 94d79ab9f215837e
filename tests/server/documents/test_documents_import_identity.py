"""``$import-crbio`` checks that the document is about the target patient (issue 10 item 15): the INS and the
strict traits of the document's ``recordTarget`` against the Patient, over real HTTP; a mismatch is 422 with
the reasons and nothing is stored."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from facades.cda.conformance.kit import default_kit
from tests.support import crbio_samples as samples
from tests.support.validation_lab import Lab

TSH = default_kit().root / "ExemplesCDA" / "BIO-CR-BIO_2024.01_TSH_1.xml"  # PAT-TROIS DOMINIQUE, F, 1979-03-28


async def _stored_patient(lab: Lab, change: Any = None) -> str:
    body = copy.deepcopy(samples.patient(True))
    body.pop("id")
    if change:
        change(body)
    return (await lab.store.create(body)).id


async def _nothing_stored(lab: Lab, pid: str) -> None:
    for kind in ("DocumentReference", "Observation"):
        answer = await lab.client.get(kind, params={"patient": f"Patient/{pid}"})
        assert [e for e in answer.json().get("entry", ()) if e["search"]["mode"] == "match"] == [], kind


def _other_person(body: dict[str, Any]) -> None:
    body["name"] = [{"use": "official", "family": "MARTIN", "given": ["LOUISE"]}]
    body["birthDate"] = "1980-05-02"
    body["identifier"] = [i for i in body["identifier"] if "1.2.250.1.213.1.4" not in i["system"]]


@pytest.mark.req("SGL.DOC.22")
async def test_document_of_another_person_is_refused_with_each_trait_named_SGL_DOC_22(doc_lab: Lab) -> None:
    pid = await _stored_patient(doc_lab, _other_person)
    answer = await doc_lab.client.post(f"Patient/{pid}/$import-crbio", content=TSH.read_bytes())
    assert answer.status_code == 422, answer.text
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert f"not about Patient/{pid}" in outcome["issue"][0]["diagnostics"]
    named = {e for issue in outcome["issue"][1:] for e in issue["expression"]}
    assert {"Patient.name.where(use='official').family", "Patient.birthDate"} <= named
    assert any("birth name" in i["diagnostics"] and "PAT-TROIS" in i["diagnostics"] and "MARTIN" in i["diagnostics"]
               for i in outcome["issue"])
    assert not any("sex" in i["diagnostics"] for i in outcome["issue"])  # both female: not a mismatch
    await _nothing_stored(doc_lab, pid)


@pytest.mark.req("SGL.DOC.22")
async def test_same_traits_but_another_ins_is_refused_without_echoing_the_ins_SGL_DOC_22(doc_lab: Lab) -> None:
    def other_ins(body: dict[str, Any]) -> None:
        for ident in body["identifier"]:
            if ident["system"] == "urn:oid:1.2.250.1.213.1.4.10":
                ident["value"] = "279035121518971"
    pid = await _stored_patient(doc_lab, other_ins)
    answer = await doc_lab.client.post(f"Patient/{pid}/$import-crbio", content=TSH.read_bytes())
    assert answer.status_code == 422, answer.text
    issues = answer.json()["issue"]
    assert [i for i in issues if "INS" in i["diagnostics"]][0]["expression"][1] == "Patient.identifier"
    assert "279035121518989" not in answer.text and "279035121518971" not in answer.text
    await _nothing_stored(doc_lab, pid)


@pytest.mark.req("SGL.DOC.22")
async def test_another_sex_alone_is_refused_SGL_DOC_22(doc_lab: Lab) -> None:
    pid = await _stored_patient(doc_lab, lambda body: body.update(gender="male"))
    answer = await doc_lab.client.post(f"Patient/{pid}/$import-crbio", content=TSH.read_bytes())
    assert answer.status_code == 422, answer.text
    assert [i["expression"][1] for i in answer.json()["issue"][1:]] == ["Patient.gender"]
    await _nothing_stored(doc_lab, pid)


@pytest.mark.req("SGL.DOC.22")
async def test_same_person_written_in_another_case_and_accents_is_imported_SGL_DOC_22(doc_lab: Lab) -> None:
    def lower(body: dict[str, Any]) -> None:
        body["name"][0].update(family="Pat-Trois", given=["Dominique", "Marie-Louïse"])
    pid = await _stored_patient(doc_lab, lower)
    answer = await doc_lab.client.post(f"Patient/{pid}/$import-crbio", content=TSH.read_bytes())
    assert answer.status_code == 201, answer.text


@pytest.mark.req("SGL.DOC.22")
async def test_cda_naming_no_patient_is_refused_SGL_DOC_22(doc_lab: Lab) -> None:
    pid = await _stored_patient(doc_lab)
    text = TSH.read_text(encoding="utf-8")
    start, end = text.index("<recordTarget>"), text.index("</recordTarget>") + len("</recordTarget>")
    answer = await doc_lab.client.post(f"Patient/{pid}/$import-crbio", content=(text[:start] + text[end:]).encode())
    assert answer.status_code == 422, answer.text
    assert "names no patient" in answer.json()["issue"][0]["diagnostics"]
    await _nothing_stored(doc_lab, pid)
