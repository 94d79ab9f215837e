"""read_crbio (facades/cda/reader/read.py): ANS examples, our own N3/N1, PDFs, and refused input."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from facades.cda.conformance.kit import default_kit
from facades.cda.reader import SubcontractedReport, read_crbio
from facades.cda.stylesheet import self_presenting
from facades.cda.writer import SubcontractedPdf, write_n1, write_n3
from resources.errors import InvalidInput
from tests.support import crbio_samples as s

EXAMPLES = default_kit().root / "ExemplesCDA"
TRANSPORT_EXAMPLES = sorted(p for p in (default_kit().root.parent / "ans-hl7v2-examples").rglob("*")
                            if p.suffix.lower() == ".xml")
UCUM = "http://unitsofmeasure.org"


def by_code(report: SubcontractedReport, code: str) -> dict[str, Any]:
    return next(o for o in report.observations if any(c.get("code") == code for c in o["code"].get("coding", [])))


@pytest.mark.req("SGL.DOC.18")
@pytest.mark.parametrize("example", TRANSPORT_EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_cda_of_the_hl7v2_transport_examples_reads_SGL_DOC_18(example: Path) -> None:
    report = read_crbio(example.read_bytes())
    assert (report.level == "N1" and report.pdf) or len(report.observations) == 52


def organization(report: SubcontractedReport, reference: dict[str, str]) -> dict[str, Any]:
    return next(o for o in report.organizations if f"Organization/{o['id']}" == reference["reference"])


@pytest.mark.req("SGL.DOC.22")
@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("BIO-CR-BIO_*.xml")), ids=lambda p: p.stem)
def test_every_official_example_reads_SGL_DOC_22(example: Path) -> None:
    report = read_crbio(example.read_bytes())
    assert report.level in ("N3", "N1")
    assert report.level == "N1" or report.observations
    if "2024.01" in example.name or report.level == "N1":
        assert report.pdf is not None and report.pdf.startswith(b"%PDF-")
    for obs in report.observations:
        assert obs["code"] and obs["status"] in ("final", "cancelled", "preliminary")
        assert organization(report, obs["performer"][0])["name"]


@pytest.mark.req("SGL.DOC.18")
def test_tsh_example_values_are_read_exactly_SGL_DOC_18() -> None:
    report = read_crbio((EXAMPLES / "BIO-CR-BIO_2024.01_TSH_1.xml").read_bytes())
    assert report.order_number == "2014123456789"
    assert {"system": "urn:oid:1.2.250.1.213.1.4.10", "value": "279035121518989"} in report.patient_identifiers
    tsh, ft4 = by_code(report, "3016-3"), by_code(report, "3024-7")
    assert tsh["valueQuantity"] == {"value": 1.95, "unit": "m[IU]/L", "system": UCUM, "code": "m[IU]/L"}
    assert tsh["referenceRange"][0]["low"]["value"] == 0.27 and tsh["referenceRange"][0]["high"]["value"] == 4.2
    assert tsh["interpretation"][0]["coding"][0]["code"] == "N"
    assert tsh["code"]["text"] == "Thyréostimuline (TSH)"
    assert tsh["effectiveDateTime"] == "2014-04-02T14:55:21+02:00"
    assert ft4["valueQuantity"]["value"] == 7.67 and ft4["valueQuantity"]["unit"] == "pg/mL"
    assert ft4["referenceRange"][0]["low"]["value"] == 9.3 and ft4["referenceRange"][0]["high"]["value"] == 17.0
    assert ft4["interpretation"][0]["coding"][0]["code"] == "L"
    assert tsh["category"][0]["coding"][0]["code"] == "18719-5"
    assert organization(report, tsh["performer"][0])["name"] == "Laboratoire des charmes"


@pytest.mark.req("SGL.DOC.18")
def test_glycemie_examples_values_are_read_exactly_SGL_DOC_18() -> None:
    mole = read_crbio((EXAMPLES / "BIO-CR-BIO_2024.01_Glycémie mole.xml").read_bytes())
    glucose = by_code(mole, "40193-5")
    assert glucose["valueQuantity"]["value"] == 4.89 and glucose["valueQuantity"]["unit"] == "mmol/L"
    assert glucose["referenceRange"][0]["low"]["value"] == 3.89
    both = read_crbio((EXAMPLES / "BIO-CR-BIO_2024.01_Glycémie deux unités principales_mole_masse.xml").read_bytes())
    assert by_code(both, "40193-5")["valueQuantity"]["value"] == 4.89
    mass = by_code(both, "53049-3")
    assert mass["valueQuantity"] == {"value": 0.88, "unit": "g/L", "system": UCUM, "code": "g/L"}
    assert (mass["referenceRange"][0]["low"]["value"], mass["referenceRange"][0]["high"]["value"]) == (0.7, 1.08)
    assert mass["interpretation"][0]["coding"][0]["code"] == "N"


@pytest.mark.req("SGL.DOC.13")
def test_results_of_the_executing_lab_name_it_SGL_DOC_13() -> None:
    report = read_crbio((EXAMPLES / "BIO-CR-BIO_2024.01_Electrophorese.xml").read_bytes())
    names = {organization(report, o["performer"][0])["name"] for o in report.observations}
    assert "LABORATOIRE SOUS-TRAITANT" in names
    sub = next(o for o in report.organizations if o["name"] == "LABORATOIRE SOUS-TRAITANT")
    assert sub["identifier"] == [{"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "1120456733"}]


def test_microbiology_isolate_keeps_organism_and_antibiogram() -> None:
    report = read_crbio((EXAMPLES / "BIO-CR-BIO_2024.01_Microbiologie_V1.xml").read_bytes())
    isolates = [o for o in report.observations if o["code"]["coding"][0]["code"] == "11475-1"]
    assert [i["valueCodeableConcept"]["coding"][0]["code"] for i in isolates] == ["112283007", "58800005"]
    members = [m["reference"].removeprefix("Observation/") for m in isolates[0]["hasMember"]]
    antibiogram = next(o for o in report.observations if o["id"] in members and "hasMember" in o)
    amox = next(o for o in report.observations if o["id"] == antibiogram["hasMember"][0]["reference"][12:])
    assert amox["valueQuantity"]["comparator"] == ">=" and amox["valueQuantity"]["value"] == 0.512
    assert amox["interpretation"][0]["coding"][0]["code"] == "R"
    assert report.specimens[0]["type"]["coding"][0]["code"] == "UR"
    assert report.specimens[0]["receivedTime"] == "2024-01-04T07:52:00+01:00"
    assert any(n["text"] == "Traitement immédiat" for o in report.observations for n in o.get("note", []))


@pytest.mark.req("SGL.DOC.18")
def test_our_own_subcontracted_n3_reads_back_with_its_lab_and_pdf_SGL_DOC_18() -> None:
    n3 = write_n3(s.crbio_input(s.subcontracted()))
    for document in (n3, self_presenting(n3)):
        report = read_crbio(document)
        vitd = by_code(report, "62292-8")
        assert vitd["valueQuantity"]["value"] == 42.0 and vitd["interpretation"][0]["coding"][0]["code"] == "L"
        assert organization(report, vitd["performer"][0])["name"] == "Laboratoire Spécialisé Cerba-Test"
        assert organization(report, by_code(report, "3016-3")["performer"][0])["name"] == "Laboratoire des Charmes"
        assert report.pdf == s.TINY_PDF and report.order_number == "2024010400123" and report.version == 1
        spec = next(sp for sp in report.specimens if f"Specimen/{sp['id']}" == vitd["specimen"]["reference"])
        assert spec["collection"]["collectedDateTime"] == "2024-01-04T07:35:00+01:00"


@pytest.mark.req("SGL.DOC.22")
def test_n1_and_plain_pdf_give_the_pdf_to_embed_SGL_DOC_22() -> None:
    n1 = read_crbio(write_n1(s.TINY_PDF, s.crbio_input(s.biochemistry())))
    assert n1.level == "N1" and n1.pdf == s.TINY_PDF and n1.observations == ()
    assert n1.set_id == "set-1"
    pdf = read_crbio(s.TINY_PDF)
    assert pdf.level == "PDF" and pdf.pdf == s.TINY_PDF


@pytest.mark.parametrize(("document", "expression"), [
    (b"hello, not a report", "line 1"),
    (b"<?xml version='1.0'?>\n<Bundle xmlns='http://hl7.org/fhir'/>", "Bundle"),
])
def test_input_that_is_not_a_cda_is_refused_with_its_location(document: bytes, expression: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_crbio(document)
    assert caught.value.expression == [expression]
    assert "not a CR-Bio" in caught.value.diagnostics


def test_cda_of_another_kind_is_refused() -> None:
    other = write_n3(s.crbio_input(s.biochemistry())).replace(b'code="11502-2"', b'code="34133-9"', 1)
    with pytest.raises(InvalidInput) as caught:
        read_crbio(other)
    assert caught.value.expression[0].startswith("/cda:ClinicalDocument/cda:code")


def test_broken_value_and_broken_pdf_are_refused_with_their_element() -> None:
    broken = write_n3(s.crbio_input(s.biochemistry())).replace(b'value="7.67"', b'value="7,67"')
    with pytest.raises(InvalidInput) as caught:
        read_crbio(broken)
    assert "cda:value" in caught.value.expression[0] and "line" in caught.value.expression[0]
    n1 = write_n1(s.TINY_PDF, s.crbio_input(s.biochemistry()))
    bad_pdf = n1.replace(base64.b64encode(s.TINY_PDF), base64.b64encode(b"GIF89a not a pdf"))
    with pytest.raises(InvalidInput) as caught:
        read_crbio(bad_pdf)
    assert "nonXMLBody" in caught.value.expression[0]


@pytest.mark.req("SGL.DOC.13")
def test_embedded_subcontractor_pdf_is_an_attachment_not_the_copy_SGL_DOC_13() -> None:
    other = s.TINY_PDF + b"% subcontractor\n"
    n3 = write_n3(s.crbio_input(s.biochemistry(), subcontracted_pdfs=[SubcontractedPdf(s.subcontractor(), other)]))
    report = read_crbio(n3)
    assert report.pdf == s.TINY_PDF and report.attachments == (other,)


def test_a_crbio_deeper_than_256_levels_is_refused_with_its_line() -> None:
    """The reader parsed with huge_tree (2,048 levels allowed); outside XML now keeps libxml2's 256."""
    n3 = write_n3(s.crbio_input(s.biochemistry()))
    deep = n3.replace(b"</ClinicalDocument>", b"<x>" * 1_000 + b"</x>" * 1_000 + b"</ClinicalDocument>")
    with pytest.raises(InvalidInput) as caught:
        read_crbio(deep)
    assert "depth" in caught.value.diagnostics and caught.value.expression[0].startswith("line ")


def test_a_crbio_with_a_dtd_is_refused_and_its_entity_not_expanded() -> None:
    n3 = write_n3(s.crbio_input(s.biochemistry()))
    xxe = n3.replace(b"<ClinicalDocument", b'<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                     b"<ClinicalDocument", 1).replace(b"</title>", b"&e;</title>", 1)
    with pytest.raises(InvalidInput, match="DTD") as caught:
        read_crbio(xxe)
    assert "root:" not in caught.value.diagnostics
