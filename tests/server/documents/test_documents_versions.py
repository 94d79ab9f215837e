"""Versions: partial then complete then corrected; same set, RPLC, superseded, "annule et remplace" (SGL.MSS.24)."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from facades.cda import validate_cda
from tests.support.documents_wait import crbio, wait_for_documents
from tests.support.dossiers import validated_report
from tests.support.pdf_text import pdf_text
from tests.support.validation_lab import UCUM, Lab, parameters

CDA = {"cda": "urn:hl7-org:v3"}


async def _refs(lab: Lab, report_id: str) -> dict[str, dict[str, Any]]:
    answer = await lab.client.get("DocumentReference", params={"related": f"DiagnosticReport/{report_id}",
                                                               "_count": "50"})
    return {e["resource"]["id"]: e["resource"] for e in answer.json()["entry"] if e["search"]["mode"] == "match"}


async def _document(lab: Lab, report_id: str, fmt: str) -> bytes:
    answer = await crbio(lab.client, report_id, fmt)
    assert answer.status_code == 200, answer.text
    return answer.content


@pytest.mark.req("SGL.MSS.24")
@pytest.mark.req("SGL.DOC.01")
async def test_partial_complete_and_corrected_versions_replace_each_other_SGL_MSS_24(doc_lab: Lab) -> None:
    _, report, [potassium_id] = await validated_report(doc_lab, {"NA": 140}, pending={"K": 4.1})
    assert report["status"] == "preliminary"
    partial = pdf_text(await _document(doc_lab, report["id"], "pdf"))
    assert "Annule et remplace" not in partial and "4,1" not in partial  # K is not biologically validated yet
    assert validate_cda(await _document(doc_lab, report["id"], "n3"), level="N3").errors == []

    answer = await doc_lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200 and answer.json()["status"] == "final"
    await wait_for_documents(doc_lab.client, report["id"])  # version 2 made before the correction asks for 3
    potassium = f"Observation/{potassium_id}"
    correction = parameters(observation={"valueReference": {"reference": potassium}}, reason="erreur de saisie",
                            value={"valueQuantity": {"value": 4.6, "unit": "mmol/L", "system": UCUM,
                                                     "code": "mmol/L"}})
    corrected = await doc_lab.client.post(f"DiagnosticReport/{report['id']}/$correct", json=correction)
    assert corrected.status_code == 200, corrected.text
    await wait_for_documents(doc_lab.client, report["id"])

    refs = await _refs(doc_lab, report["id"])
    for fmt in ("n3", "n1", "pdf"):
        assert refs[f"{report['id']}-{fmt}-v1"]["status"] == "superseded"
        assert refs[f"{report['id']}-{fmt}-v2"]["status"] == "superseded"
        latest = refs[f"{report['id']}-{fmt}-v3"]
        assert latest["status"] == "current" and latest["docStatus"] == "final"
        assert latest["relatesTo"] == [{"code": "replaces",
                                        "target": {"reference": f"DocumentReference/{report['id']}-{fmt}-v2"}}]
    n3 = await _document(doc_lab, report["id"], "n3")
    assert validate_cda(n3, level="N3").errors == []
    root = etree.fromstring(n3).find(".//cda:ClinicalDocument", CDA)  # inside the self-presenting stylesheet
    assert root is not None
    assert root.find("cda:setId", CDA).get("extension") == report["id"]
    assert root.find("cda:versionNumber", CDA).get("value") == "3"
    parent = root.find("cda:relatedDocument", CDA)
    assert parent.get("typeCode") == "RPLC"
    assert parent.find("cda:parentDocument/cda:id", CDA).get("extension") == f"{report['id']}.2"
    text = pdf_text(await _document(doc_lab, report["id"], "pdf"))
    assert "Annule et remplace" in text and "4,6" in text


@pytest.mark.req("SGL.DOC.10")
@pytest.mark.req("SGL.DOC.08")
async def test_cofrac_mention_only_with_an_accredited_result_and_rgpd_text_SGL_DOC_10_SGL_DOC_08(doc_lab: Lab) -> None:
    _, accredited, _ = await validated_report(doc_lab, {"GLU": 0.95})  # GLU is accredited in the seed catalogue
    _, plain, _ = await validated_report(doc_lab, {"HBA1CI": 40})  # HBA1CI is not
    with_cofrac = pdf_text(await _document(doc_lab, accredited["id"], "pdf"))
    without = pdf_text(await _document(doc_lab, plain["id"], "pdf"))
    assert "Accréditation n° 8-0000" in with_cofrac and "astérisque" in with_cofrac
    assert "COFRAC" not in without.upper() and "astérisque" not in without
    for text in (with_cofrac, without):
        assert "droit d'accès et de rectification" in text
