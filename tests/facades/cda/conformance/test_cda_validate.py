"""validate_cda on the ANS examples and on mutations of them (facades/cda/conformance/validate.py)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree

from facades.cda import NotACda, validate_cda
from facades.cda.conformance.kit import default_kit
from resources.errors import InvalidInput

HL7 = "urn:hl7-org:v3"
NS = {"cda": HL7}
EXAMPLES = default_kit().root / "ExemplesCDA"
CR_BIO_2024 = sorted(EXAMPLES.glob("BIO-CR-BIO_2024.01_*.xml"))
TSH = EXAMPLES / "BIO-CR-BIO_2024.01_TSH_1.xml"
VOLET = "CI-SIS_BIO-CR-BIO_2024.01.sch"
STRUCMIN = "ASIP-STRUCT-MIN-StrucMin.sch"


def mutate(path: Path, change: Callable[[etree._Element], object]) -> bytes:
    root = etree.fromstring(path.read_bytes())
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def remove(xpath: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        found = root.xpath(xpath, namespaces=NS)
        assert found, f"mutation target {xpath} absent from the example"
        for node in found:
            node.getparent().remove(node)
    return change


def test_eleven_cr_bio_2024_examples_are_in_the_kit() -> None:
    assert len(CR_BIO_2024) == 11


@pytest.mark.req("SGL.DOC.01")
@pytest.mark.parametrize("example", CR_BIO_2024, ids=lambda p: p.stem)
def test_official_2024_example_conforms_as_n3_SGL_DOC_01(example: Path) -> None:
    report = validate_cda(example)
    assert report.level == "N3"
    assert report.checked[0] == "xsd" and VOLET in report.checked and STRUCMIN in report.checked
    assert report.errors == [], [f"{e.source}: {e.message} @ {e.where()}" for e in report.errors]
    assert report.ok


@pytest.mark.req("SGL.DOC.04")
def test_official_n1_example_conforms_as_n1_without_the_volet_SGL_DOC_04() -> None:
    report = validate_cda(EXAMPLES / "BIO-CR-BIO_2021.01_CDA-R2-Niveau-1.xml")
    assert report.level == "N1"
    assert VOLET not in report.checked
    assert len(report.checked) == 6
    assert report.ok, report.errors


@pytest.mark.req("SGL.DOC.04")
def test_n1_example_forced_to_n3_fails_the_volet_SGL_DOC_04() -> None:
    report = validate_cda(EXAMPLES / "BIO-CR-BIO_2021.01_CDA-R2-Niveau-1.xml", level="N3")
    assert not report.ok
    assert {f.source for f in report.errors} == {VOLET}


@pytest.mark.req("SGL.DOC.04")
def test_n1_with_a_volet_template_id_breaks_the_n1_header_rule_SGL_DOC_04() -> None:
    def add_volet_template(root: etree._Element) -> None:
        root.find(f"{{{HL7}}}templateId").addnext(etree.Element(f"{{{HL7}}}templateId", root="1.3.6.1.4.1.19376.1.3.3"))
    report = validate_cda(mutate(EXAMPLES / "BIO-CR-BIO_2021.01_CDA-R2-Niveau-1.xml", add_volet_template))
    assert report.level == "N1"
    assert not report.ok
    assert all(f.source == STRUCMIN for f in report.errors)


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("BIO-CR-BIO_2021.01_*.xml")), ids=lambda p: p.stem)
def test_2021_examples_only_miss_the_pdf_copy_section_made_mandatory_in_2024(example: Path) -> None:
    report = validate_cda(example)
    if report.level == "N1":
        assert report.ok
        return
    assert len(report.errors) == 1
    (error,) = report.errors
    assert error.source == VOLET
    assert "1.2.250.1.213.1.1.2.243" in error.message
    assert error.location == "/cda:ClinicalDocument[1]/cda:component[1]/cda:structuredBody[1]"


@pytest.mark.req("SGL.DOC.01")
def test_missing_header_template_id_is_named_with_its_location_SGL_DOC_01() -> None:
    data = mutate(TSH, remove("/cda:ClinicalDocument/cda:templateId[@root='1.3.6.1.4.1.19376.1.3.3']"))
    report = validate_cda(data)
    assert not report.ok
    (error,) = report.errors
    assert error.source == VOLET
    assert "1.3.6.1.4.1.19376.1.3.3" in error.message
    assert error.location == "/cda:ClinicalDocument[1]"
    assert error.test == "./cda:templateId[@root='1.3.6.1.4.1.19376.1.3.3']"
    assert error.line == 2


@pytest.mark.req("SGL.DOC.01")
def test_wrong_document_code_is_refused_by_the_volet_SGL_DOC_01() -> None:
    data = mutate(TSH, lambda root: root.find(f"{{{HL7}}}code").set("code", "11488-4"))
    errors = validate_cda(data).errors
    assert [e.source for e in errors] == [VOLET]
    assert '@code="11502-2"' in errors[0].message


@pytest.mark.req("SGL.DOC.01")
def test_document_code_outside_j07_is_caught_by_the_repaired_header_rule_SGL_DOC_01() -> None:
    data = mutate(TSH, lambda root: root.find(f"{{{HL7}}}code").set("code", "99999-9"))
    errors = validate_cda(data).errors
    header = [e for e in errors if e.source == STRUCMIN]
    assert len(header) == 1
    assert "1.2.250.1.213.1.1.5.471" in header[0].message
    assert header[0].location == "/cda:ClinicalDocument[1]/cda:code[1]"
    assert not any("could not be evaluated" in e.message for e in errors)


@pytest.mark.req("SGL.DOC.01")
def test_element_unknown_to_the_schema_is_an_xsd_error_with_line_and_path_SGL_DOC_01() -> None:
    data = mutate(TSH, lambda root: root.find(f"{{{HL7}}}title").addnext(etree.Element(f"{{{HL7}}}bogus")))
    report = validate_cda(data)
    xsd = [f for f in report.errors if f.source == "xsd"]
    assert len(xsd) == 1
    assert "bogus" in xsd[0].message and "not expected" in xsd[0].message
    assert xsd[0].location == "/cda:ClinicalDocument[1]/cda:bogus[1]"
    assert xsd[0].line is not None and xsd[0].line > 1


@pytest.mark.req("SGL.DOC.01")
def test_missing_record_target_fails_xsd_and_header_schematron_SGL_DOC_01() -> None:
    report = validate_cda(mutate(TSH, remove("/cda:ClinicalDocument/cda:recordTarget")))
    sources = {f.source for f in report.errors}
    assert sources == {"xsd", STRUCMIN}
    assert any("recordTarget" in f.message and f.location == "/cda:ClinicalDocument[1]"
               for f in report.errors if f.source == STRUCMIN)


@pytest.mark.req("SGL.DOC.01")
def test_missing_pdf_copy_section_is_caught_SGL_DOC_01() -> None:
    gone = "//cda:component[cda:section/cda:templateId/@root='1.2.250.1.213.1.1.2.243']"
    (error,) = validate_cda(mutate(TSH, remove(gone))).errors
    assert error.source == VOLET and "FR-Document-PDF-copie" in error.message


@pytest.mark.req("SGL.DOC.21")
def test_non_ucum_unit_is_caught_at_each_value_SGL_DOC_21() -> None:
    def bad_units(root: etree._Element) -> None:
        for value in root.xpath("//cda:observation/cda:value[@unit]", namespaces=NS):
            value.set("unit", "mUI/Lzz")
    errors = validate_cda(mutate(TSH, bad_units)).errors
    assert len(errors) == 2
    assert all(e.source == "terminologie.sch" and "mUI/Lzz" in e.message for e in errors)
    assert all(e.location.endswith("/cda:observation[1]/cda:value[1]") for e in errors)


def test_non_xml_input_is_invalid_input_with_its_line() -> None:
    with pytest.raises(NotACda) as caught:
        validate_cda(b"<?xml version='1.0'?>\n<ClinicalDocument>\n<title></ClinicalDocument>")
    assert "not well-formed XML" in caught.value.diagnostics
    assert caught.value.expression == ["line 3"]
    assert caught.value.status == 400


def test_pdf_bytes_are_not_a_cda() -> None:
    with pytest.raises(NotACda, match="not well-formed"):
        validate_cda(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")


def test_xml_without_clinical_document_is_not_a_cda() -> None:
    with pytest.raises(NotACda) as caught:
        validate_cda(b"<Bundle xmlns='http://hl7.org/fhir'><type value='document'/></Bundle>")
    assert "ClinicalDocument" in caught.value.diagnostics and "Bundle" in caught.value.diagnostics
    assert caught.value.outcome()["issue"][0]["code"] == "invalid"


def test_clinical_document_outside_the_hl7_namespace_is_not_a_cda() -> None:
    with pytest.raises(NotACda):
        validate_cda(b"<ClinicalDocument><title>x</title></ClinicalDocument>")


def test_unreadable_path_is_not_a_cda(tmp_path: Path) -> None:
    with pytest.raises(NotACda, match="cannot read"):
        validate_cda(tmp_path / "absent.xml")


@pytest.mark.req("SGL.DOC.03")
def test_self_presenting_document_is_validated_on_its_embedded_cda_SGL_DOC_03() -> None:
    report = validate_cda(EXAMPLES / "BIO-CR-BIO_2021.01_Auto-Presentable.xml")
    assert report.extracted_from == "stylesheet"
    assert [e.source for e in report.errors] == [VOLET]  # 2021.01 content: only the 2024 PDF-copy rule
    assert report.errors[0].line == 523  # the line in the original file


@pytest.mark.req("SGL.DOC.03")
def test_defect_inside_a_self_presenting_wrapper_is_reported_SGL_DOC_03() -> None:
    data = mutate(EXAMPLES / "BIO-CR-BIO_2021.01_Auto-Presentable.xml",
                  remove("//cda:ClinicalDocument/cda:recordTarget"))
    report = validate_cda(data)
    assert report.extracted_from == "stylesheet"
    assert "xsd" in {e.source for e in report.errors}
    assert any("recordTarget" in e.message for e in report.errors if e.source == STRUCMIN)


def test_stylesheet_processing_instruction_before_the_root_is_harmless() -> None:
    data = TSH.read_bytes().replace(b"?>", b'?>\n<?xml-stylesheet type="text/xsl" href="cda.xsl"?>', 1)
    report = validate_cda(data)
    assert report.extracted_from is None
    assert report.ok


def test_operation_outcome_carries_each_finding_with_its_location() -> None:
    report = validate_cda(mutate(TSH, remove("/cda:ClinicalDocument/cda:recordTarget")))
    outcome = report.to_operation_outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    assert len(outcome["issue"]) == len(report.findings)
    xsd = next(i for i in outcome["issue"] if i["diagnostics"].startswith("[xsd]"))
    assert xsd["severity"] == "error" and xsd["code"] == "structure"
    assert xsd["expression"] == ["/cda:ClinicalDocument[1]/cda:author[1]"]


def test_clean_document_gives_a_single_informational_issue() -> None:
    outcome = validate_cda(TSH).to_operation_outcome()
    assert [(i["severity"], i["code"]) for i in outcome["issue"]] == [("information", "informational")]


def test_unknown_level_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_cda(TSH, level="N2")  # type: ignore[arg-type]
    assert caught.value.expression == ["level"]


def test_documents_validate_concurrently_from_threads() -> None:
    good = [TSH, EXAMPLES / "BIO-CR-BIO_2024.01_Microbiologie_V1.xml"]
    bad = mutate(TSH, remove("/cda:ClinicalDocument/cda:recordTarget"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        verdicts = list(pool.map(lambda d: validate_cda(d).ok, [*good, bad] * 3))
    assert verdicts == [True, True, False] * 3
