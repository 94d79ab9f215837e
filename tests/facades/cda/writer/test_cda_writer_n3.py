"""write_n3 (facades/cda/writer/n3.py): every document of the matrix passes the offline validator at N3."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from lxml import etree

from facades.cda.writer import CrBioInput, DocumentVersion, SubcontractedPdf
from tests.support import crbio_samples as s
from tests.support.cda_checks import NS, conforming_n3, values

INS_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11")


MATRIX: dict[str, Callable[[], CrBioInput]] = {
    "biochemistry": lambda: s.crbio_input(s.biochemistry()),
    "haematology": lambda: s.crbio_input(s.haematology(), ["nfs"], specimens=[s.specimen("sp2", "BLD", "Sang")],
                                         conclusion="Hyperleucocytose modérée à contrôler."),
    "microbiology": lambda: s.crbio_input(s.microbiology(), ["asp", "gram", "leu", "iso"],
                                          specimens=[s.specimen("sp3", "UR", "Urine")]),
    "partial": lambda: s.crbio_input(s.haematology("preliminary"), ["nfs"], status="partial",
                                     specimens=[s.specimen("sp2", "BLD", "Sang")]),
    "corrected": lambda: s.crbio_input(s.biochemistry(), status="corrected",
                                       version=DocumentVersion(s.ROOT, "doc-2", "set-1", 2, replaces="doc-1")),
    "not-qualified": lambda: s.crbio_input(s.biochemistry(), qualified=False),
    "subcontracted": lambda: s.crbio_input(s.subcontracted()),
    "subcontracted-pdf": lambda: s.crbio_input(s.biochemistry(), subcontracted_pdfs=[
        SubcontractedPdf(s.subcontractor(), s.TINY_PDF.replace(b"1 0 obj", b"1 0 obj ", 1))]),
}


@pytest.fixture(scope="module")
def written() -> dict[str, etree._Element]:
    """Each matrix document, written and validated once for the module."""
    return {name: conforming_n3(build()) for name, build in MATRIX.items()}


@pytest.mark.req("SGL.DOC.01")
@pytest.mark.parametrize("case", list(MATRIX))
def test_matrix_document_passes_the_n3_validator_SGL_DOC_01(written: dict[str, etree._Element], case: str) -> None:
    doc = written[case]
    assert values(doc, "c:templateId/@root")[-1] == "1.2.250.1.213.1.1.1.55"
    assert values(doc, "c:code/@code") == ["11502-2"]
    assert doc.xpath("count(//c:section[c:templateId/@root='1.2.250.1.213.1.1.2.70'])", namespaces=NS) >= 1
    assert values(doc, "//c:section[c:templateId/@root='1.2.250.1.213.1.1.2.243']"
                       "//c:observationMedia/c:value/@mediaType") == ["application/pdf"]


@pytest.mark.req("SGL.DOC.01")
def test_biochemistry_results_carry_value_unit_range_and_flag_SGL_DOC_01(written: dict[str, etree._Element]) -> None:
    doc = written["biochemistry"]
    ft4 = doc.xpath("//c:observation[c:code/@code='3024-7']", namespaces=NS)[0]
    assert values(ft4, "c:value/@value") == ["7.67"] and values(ft4, "c:value/@unit") == ["pg/mL"]
    assert values(ft4, "c:interpretationCode/@code") == ["L"]
    assert values(ft4, "c:referenceRange/c:observationRange/c:value/c:low/@value") == ["9.3"]
    assert values(ft4, "c:entryRelationship/c:act/c:code/@code") == ["48767-8"]
    comment_ref = values(ft4, "c:entryRelationship/c:act/c:text/c:reference/@value")[0]
    assert values(doc, f"//c:content[@ID='{comment_ref[1:]}']/text()") == ["Contrôlé sur un second prélèvement."]
    assert values(doc, "//c:observation[c:code/@code='14749-6']/c:interpretationCode/@code") == ["H"]


def test_haematology_battery_groups_its_members(written: dict[str, etree._Element]) -> None:
    doc = written["haematology"]
    battery = doc.xpath("//c:organizer[@classCode='BATTERY']", namespaces=NS)[0]
    assert values(battery, "c:code/@code") == ["58410-2"]
    assert values(battery, "c:component/c:observation/c:code/@code") == ["718-7", "6690-2", "777-3"]
    assert values(doc, "//c:section[c:templateId/@root='1.2.250.1.213.1.1.2.70']/c:code/@code") == ["18723-7"]
    assert values(doc, "//c:procedure//c:playingEntity/c:code/@code") == ["BLD"]
    assert values(doc, "//c:section[c:code/@code='55112-7']/c:text/c:paragraph/text()") == [
        "Hyperleucocytose modérée à contrôler."]
    received = "//c:procedure//c:act[c:code/@code='SPRECEIVE']/c:effectiveTime/@value"
    assert values(doc, received) == ["20240104092200+0100"]


def test_microbiology_isolate_with_antibiogram(written: dict[str, etree._Element]) -> None:
    doc = written["microbiology"]
    assert values(doc, "//c:observation[c:code/@code='653-6']/c:value/text()") == ["nombreux bacilles Gram négatif"]
    aspect_ref = values(doc, "//c:observation[c:code/@code='5767-9']/c:value/c:originalText/c:reference/@value")[0]
    assert values(doc, f"//c:content[@ID='{aspect_ref[1:]}']/text()") == ["trouble"]
    isolate = doc.xpath("//c:organizer[@classCode='CLUSTER'][c:templateId/@root='1.3.6.1.4.1.19376.1.3.1.5']",
                        namespaces=NS)[0]
    assert values(isolate, "c:specimen/c:specimenRole/c:specimenPlayingEntity[@classCode='MIC']/c:code/@code") == [
        "112283007"]
    assert values(isolate, "c:component/c:observation/c:code/@code") == ["51480-2"]
    antibiogram = isolate.xpath("c:component/c:organizer[c:code/@code='18769-0']", namespaces=NS)[0]
    assert values(antibiogram, "c:component/c:observation/c:interpretationCode/@code") == ["R", "I", "S"]
    amox = antibiogram.xpath("c:component/c:observation[c:code/@code='20-8']/c:value", namespaces=NS)[0]
    assert amox.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "IVL_PQ"
    assert values(amox, "c:low/@value") == ["0.512"] and values(amox, "c:low/@inclusive") == ["true"]


def test_partial_then_complete_report_changes_the_service_event_status(written: dict[str, etree._Element]) -> None:
    partial, complete = written["partial"], written["haematology"]
    assert values(partial, "//lab:statusCode/@code") == ["active"]
    assert values(complete, "//lab:statusCode/@code") == ["completed"]
    assert values(partial, "//c:organizer[@classCode='BATTERY']/c:statusCode/@code") == ["active"]
    assert "777-3" not in values(partial, "//c:observation/c:code/@code")
    assert "777-3" in values(complete, "//c:observation/c:code/@code")


@pytest.mark.req("SGL.DOC.01")
def test_corrected_version_replaces_the_previous_one_in_the_same_set_SGL_DOC_01(
        written: dict[str, etree._Element]) -> None:
    doc = written["corrected"]
    assert values(doc, "c:setId/@extension") == ["set-1"] and values(doc, "c:versionNumber/@value") == ["2"]
    assert values(doc, "c:id/@extension") == ["doc-2"]
    assert values(doc, "c:relatedDocument[@typeCode='RPLC']/c:parentDocument/c:id/@extension") == ["doc-1"]
    assert not written["biochemistry"].xpath("c:relatedDocument", namespaces=NS)


@pytest.mark.req("SGL.INS.37")
def test_ins_is_sent_only_for_a_qualified_identity_SGL_INS_37(written: dict[str, etree._Element]) -> None:
    qualified, provisional = written["biochemistry"], written["not-qualified"]
    role = "c:recordTarget/c:patientRole"
    assert values(qualified, f"{role}/c:id/@root")[0] == "1.2.250.1.213.1.4.10"
    assert values(qualified, f"{role}/c:id/@extension")[0] == "279035121518989"
    assert "mailto:279035121518989@patient.mssante.fr" in values(qualified, f"{role}/c:telecom/@value")
    text = etree.tostring(provisional).decode()
    assert "279035121518989" not in text
    assert not set(values(provisional, "//@root")) & set(INS_OIDS)
    assert values(provisional, f"{role}/c:id/@extension") == ["IPP123"]
    assert values(provisional, f"{role}/c:patient/c:name/c:family[@qualifier='BR']/text()") == ["PAT-TROIS"]
    assert values(provisional, f"{role}/c:patient/c:birthTime/@value") == ["19790328"]


@pytest.mark.req("SGL.DOC.07")
def test_every_recipient_is_an_information_recipient_SGL_DOC_07(written: dict[str, etree._Element]) -> None:
    doc = written["biochemistry"]
    recipients = doc.xpath("c:informationRecipient/c:intendedRecipient", namespaces=NS)
    assert [values(r, "c:informationRecipient/c:name/c:family/text()") for r in recipients] == [
        ["CHARLES"], ["MEDECIN"], ["COEUR"], []]
    assert "mailto:anne.coeur@hopital.mssante.fr" in values(recipients[2], "c:telecom/@value")
    assert values(recipients[3], "c:receivedOrganization/c:name/text()") == ["Service de cardiologie CHU"]
    assert values(recipients[3], "c:telecom/@value") == ["mailto:cardio@chu.mssante.fr"]


@pytest.mark.req("SGL.DOC.11")
def test_requester_carries_its_mssante_address_SGL_DOC_11(written: dict[str, etree._Element]) -> None:
    doc = written["biochemistry"]
    prescriber = doc.xpath("c:participant[@typeCode='REF'][c:templateId/@root='1.3.6.1.4.1.19376.1.3.3.1.6']",
                           namespaces=NS)[0]
    assert "mailto:pascal.charles@medecin.mssante.fr" in values(prescriber, "c:associatedEntity/c:telecom/@value")
    assert values(prescriber, "c:associatedEntity/c:id/@extension") == ["810002422979"]


@pytest.mark.req("SGL.DOC.13")
@pytest.mark.req("SGL.DOC.14")
def test_subcontracted_result_names_the_executing_lab_inside_our_n3_SGL_DOC_13_SGL_DOC_14(
        written: dict[str, etree._Element]) -> None:
    doc = written["subcontracted"]
    acts = doc.xpath("//c:act[c:performer/c:templateId/@root='1.2.250.1.213.1.1.3.23']", namespaces=NS)
    assert len(acts) == 1
    lab = acts[0].xpath("c:performer/c:assignedEntity/c:representedOrganization", namespaces=NS)[0]
    assert values(lab, "c:name/text()") == ["Laboratoire Spécialisé Cerba-Test"]
    assert values(lab, "c:id/@extension") == ["1950000002"] and values(lab, "c:telecom/@value") == ["tel:0134000000"]
    assert values(acts[0], ".//c:observation/c:code/@code") == ["62292-8"]
    # structured results in the first-line lab's document: no link, no image of the subcontractor's report
    assert not doc.xpath("//c:linkHtml | //c:observationMedia[c:value/@mediaType!='application/pdf']", namespaces=NS)
    assert "Laboratoire Spécialisé Cerba-Test" in "".join(doc.xpath("//c:section/c:text//text()", namespaces=NS))


@pytest.mark.req("SGL.DOC.13")
def test_subcontractor_pdf_goes_in_a_second_intention_section_naming_the_lab_SGL_DOC_13(
        written: dict[str, etree._Element]) -> None:
    doc = written["subcontracted-pdf"]
    section = doc.xpath("//c:section[c:templateId/@root='1.2.250.1.213.1.1.2.60']", namespaces=NS)[0]
    assert values(section, "c:code/@code") == ["101792-0"]
    text = " ".join("".join(section.xpath("c:text//text()", namespaces=NS)).split())
    assert "Laboratoire Spécialisé Cerba-Test" in text and "Tél. 0134000000" in text and "11 rue de l'Essonne" in text
    media = section.xpath(".//c:observationMedia/c:value", namespaces=NS)[0]
    assert base64.b64decode(media.text).startswith(b"%PDF-1.4\n1 0 obj <<")
