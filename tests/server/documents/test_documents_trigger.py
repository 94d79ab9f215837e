"""A validated report gets N3, N1 and PDF/A stored as Binary + DocumentReference, each conformant."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path

import pytest

from facades.cda import validate_cda
from facades.pdf import DatamatrixError, check_pdfa1b, decode_datamatrix_png, parse_ins_datamatrix
from tests.support.access import BIOLOGIST_DISPLAY
from tests.support.dossiers import validated_report
from tests.support.validation_lab import Lab


def _page_png(pdf: bytes, tmp: Path) -> bytes:
    (tmp / "cr.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-f", "1", "-l", "1", "-png", str(tmp / "cr.pdf"), str(tmp / "page")],
                   check=True, timeout=60)
    return next(tmp.glob("page*.png")).read_bytes()


@pytest.mark.req("SGL.DOC.01")
@pytest.mark.req("SGL.DOC.12")
async def test_final_report_has_conformant_n3_n1_and_pdfa_SGL_DOC_01_SGL_DOC_12(doc_lab: Lab) -> None:
    _, report, _ = await validated_report(doc_lab, {"GLU": 1.05, "CREA": 80})
    assert report["status"] == "final"
    forms = {f["contentType"] + f["url"].rsplit("-", 2)[-2]: f for f in report["presentedForm"]}
    assert set(forms) == {"text/xmln3", "text/xmln1", "application/pdfpdf"}
    for fmt, level in (("n3", "N3"), ("n1", "N1")):
        answer = await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": fmt})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
        assert f"_{level}.xml" in answer.headers["content-disposition"]
        checked = validate_cda(answer.content, level=level)  # type: ignore[arg-type]
        assert checked.errors == [], [e.message for e in checked.errors]
    pdf = await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert check_pdfa1b(pdf.content) == []
    assert pdf.headers["content-disposition"].endswith('_V1.pdf"')
    attachment = forms["application/pdfpdf"]
    assert attachment["size"] == len(pdf.content)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf.content).digest()).decode()


@pytest.mark.req("SGL.DOC.01")
async def test_each_format_has_a_document_reference_linked_to_the_report_SGL_DOC_01(doc_lab: Lab) -> None:
    _, report, _ = await validated_report(doc_lab, {"UREA": 5.0})
    answer = await doc_lab.client.get("DocumentReference", params={"related": f"DiagnosticReport/{report['id']}"})
    refs = [e["resource"] for e in answer.json()["entry"] if e["search"]["mode"] == "match"]
    formats = {r["content"][0]["format"]["code"] for r in refs}
    assert formats == {"urn:ihe:lab:xd-lab:2008", "urn:ihe:iti:xds-sd:pdf:2008", "pdf-a-1b"}
    for ref in refs:
        assert ref["status"] == "current" and ref["type"]["coding"][0]["code"] == "11502-2"
        assert ref["subject"] == report["subject"] and ref["masterIdentifier"]["value"].startswith(report["id"])
        binary = await doc_lab.client.get(ref["content"][0]["attachment"]["url"])
        assert binary.status_code == 200


@pytest.mark.req("SGL.INS.51")
@pytest.mark.req("SGL.INS.53")
async def test_qualified_identity_prints_the_ins_datamatrix_SGL_INS_51_SGL_INS_53(doc_lab: Lab, tmp_path: Path) -> None:
    _, report, _ = await validated_report(doc_lab, {"NA": 140})
    pdf = (await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio")).content
    coded = parse_ins_datamatrix(decode_datamatrix_png(_page_png(pdf, tmp_path)))
    assert coded["matricule"] == "279035121518989"
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True,
                                   timeout=60).stdout.decode().split())
    for trait in ("PAT-TROIS", "DOMINIQUE", "28/03/1979", "Féminin", "279035121518989 (NIR)"):
        assert trait in text  # rule 32: birth name, first given name, birth date, sex, INS with its nature
    assert "Prénoms de naissance" in text and "N° patient (IPP)" in text  # default profile: every extra trait


@pytest.mark.req("SGL.INS.51")
async def test_provisional_identity_has_no_ins_on_the_documents_SGL_INS_51(doc_lab: Lab, tmp_path: Path) -> None:
    _, report, _ = await validated_report(doc_lab, {"K": 4.0}, qualified=False)
    n3 = (await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": "n3"})).content
    assert b"279035121518989" not in n3
    pdf = (await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio")).content
    assert check_pdfa1b(pdf) == []
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60).stdout
    assert b"279035121518989" not in text and b"PAT-TROIS" in text
    with pytest.raises(DatamatrixError):
        decode_datamatrix_png(_page_png(pdf, tmp_path))


@pytest.mark.req("SGL.DOC.01")
async def test_previous_result_and_validating_biologist_are_printed_SGL_DOC_01(doc_lab: Lab) -> None:
    pid, _, _ = await validated_report(doc_lab, {"CREA": 71}, when="2026-10-01T08:00:00+01:00")
    _, report, _ = await validated_report(doc_lab, {"CREA": 75}, pid=pid)
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=(await doc_lab.client.get(
        f"DiagnosticReport/{report['id']}/$cr-bio")).content, capture_output=True, check=True, timeout=60
    ).stdout.decode().split())
    assert "71" in text and "01/10/2026" in text
    assert BIOLOGIST_DISPLAY in text  # the biologist who validated (resultsInterpreter), from their Practitioner


async def test_unknown_format_is_400_and_unvalidated_report_has_no_document(doc_lab: Lab) -> None:
    _, report, _ = await validated_report(doc_lab, {"UREA": 6.1})
    bad = await doc_lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": "docx"})
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["format"]
    missing = await doc_lab.client.get("DiagnosticReport/no-such-report/$cr-bio")
    assert missing.status_code == 404
