"""FR Core-shaped input to the CR-Bio writer (issue 10 items 12-14): NOS canonical URLs for the biologist's
profession and specialty, a PAM-FR IPP whose authority is not an ISO OID, and the lab's mentions
(SGL.DOC.08 RGPD, SGL.DOC.09 autoverification, SGL.DOC.10 Cofrac) in the N3. Every document written
here passes the offline ANS validator at N3."""

from __future__ import annotations

import copy
import dataclasses

import pytest
from lxml import etree

from facades.cda import stylesheet_path
from facades.cda.writer import CrBioInput, Mentions, Party, write_n3
from resources.errors import InvalidInput
from tests.support import crbio_samples as s
from tests.support.cda_checks import NS, conforming_n3, values

G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
R38 = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
NON_ISO_IPP = {"use": "usual", "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                    "code": "PI"}]},
               "system": "urn:oid:000897406", "value": "000003"}


def fr_core_biologist(*, specialty: bool = True) -> Party:
    """Qualifications the way FR Core (and the Annuaire Santé FHIR API) code them: one per terminology."""
    practitioner = s.practitioner("bio", "810001234567", "CAMPARINI", "Marcel")
    practitioner["qualification"] = [{"code": {"coding": [{"system": G15, "code": "10", "display": "Médecin"}]}}]
    if specialty:
        practitioner["qualification"].append(
            {"code": {"coding": [{"system": R38, "code": "SM03", "display": "Biologie médicale (SM)"}]}})
    return Party(practitioner)


def author_code(doc: etree._Element) -> tuple[str, str]:
    node = doc.xpath("c:author/c:assignedAuthor/c:code", namespaces=NS)[0]
    return node.get("code"), node.get("codeSystem")


def test_nos_canonical_profession_and_specialty_become_jdv_j01_code() -> None:
    doc = conforming_n3(dataclasses.replace(s.crbio_input(s.biochemistry()), biologist=fr_core_biologist()))
    assert author_code(doc) == ("G15_10/SM03", "1.2.250.1.213.1.1.4.5")
    assert values(doc, "c:legalAuthenticator/c:assignedEntity/c:code/@code") == ["G15_10/SM03"]


def test_profession_alone_gives_the_profession_code() -> None:
    doc = conforming_n3(dataclasses.replace(s.crbio_input(s.biochemistry()),
                                            biologist=fr_core_biologist(specialty=False)))
    assert author_code(doc) == ("G15_10", "1.2.250.1.213.1.1.4.5")


def test_cda_oid_form_is_still_accepted() -> None:
    doc = conforming_n3(s.crbio_input(s.biochemistry()))
    assert author_code(doc) == ("G15_10/SM03", "1.2.250.1.213.1.1.4.5")


def test_missing_qualification_names_the_fhir_element() -> None:
    practitioner = s.practitioner("bio", "810001234567", "CAMPARINI", "Marcel")
    with pytest.raises(InvalidInput) as caught:
        write_n3(dataclasses.replace(s.crbio_input(s.biochemistry()), biologist=Party(practitioner)))
    assert caught.value.expression[0] == "Practitioner.qualification"
    assert "Practitioner/bio" in caught.value.diagnostics


def _with_non_iso_ipp(data: CrBioInput, **changes: object) -> CrBioInput:
    patient = copy.deepcopy(data.patient)
    patient["identifier"] = [i for i in patient["identifier"] if "999" not in i["system"]] + [NON_ISO_IPP]
    return dataclasses.replace(data, patient=patient, **changes)  # type: ignore[arg-type]


def test_non_iso_ipp_authority_is_left_out_and_the_ins_kept() -> None:
    doc = conforming_n3(_with_non_iso_ipp(s.crbio_input(s.biochemistry())))
    roots = values(doc, "c:recordTarget/c:patientRole/c:id/@root")
    assert "000897406" not in roots
    assert "1.2.250.1.213.1.4.10" in roots


def test_non_iso_ipp_authority_is_written_under_the_lab_mapped_oid() -> None:
    data = _with_non_iso_ipp(s.crbio_input(s.biochemistry()), identifier_oids={"000897406": "1.2.250.1.999.1.7"})
    doc = conforming_n3(data)
    ids = [(i.get("root"), i.get("extension")) for i in doc.xpath("c:recordTarget/c:patientRole/c:id", namespaces=NS)]
    assert ("1.2.250.1.999.1.7", "000003") in ids
    assert all(root != "000897406" for root, _ in ids)


MENTIONS = Mentions(rgpd="Vos données sont traitées par le laboratoire (RGPD).",
                    autoverification="Résultats validés automatiquement selon les règles du biologiste.",
                    cofrac_number="8-1234")


def _comment_text(doc: etree._Element) -> list[str]:
    return values(doc, "//c:section[c:code/@code='55112-7']/c:text/c:paragraph/text()")


@pytest.mark.req("SGL.DOC.08")
@pytest.mark.req("SGL.DOC.09")
@pytest.mark.req("SGL.DOC.10")
def test_n3_carries_rgpd_autoverification_and_cofrac_mentions_SGL_DOC_08_SGL_DOC_09_SGL_DOC_10() -> None:
    data = dataclasses.replace(s.crbio_input(s.biochemistry(), conclusion="Hypothyroxinémie à contrôler."),
                               mentions=MENTIONS, accredited=frozenset({"tsh", "glu"}), autoverified=frozenset({"glu"}))
    doc = conforming_n3(data)
    text = _comment_text(doc)
    assert text[0] == "Hypothyroxinémie à contrôler."
    assert any("Accréditation Cofrac n° 8-1234" in t and "www.cofrac.fr" in t for t in text)
    assert any(t.startswith("* Seuls les examens marqués") for t in text)
    assert MENTIONS.autoverification in text and MENTIONS.rgpd in text
    marks = {c.text: c.tail for c in doc.xpath("//c:td/c:content[starts-with(@ID, 'r')]", namespaces=NS)}
    assert marks["Thyréostimuline [Unités arbitraires/Volume] Sérum/Plasma"] == " *"
    assert marks["Glucose [Moles/Volume] Sérum/Plasma"] == " * (validé automatiquement)"
    assert marks["Thyroxine libre [Masse/Volume] Sérum/Plasma"] is None


@pytest.mark.req("SGL.DOC.10")
@pytest.mark.req("SGL.DOC.09")
def test_no_accredited_nor_autoverified_line_means_no_such_mention_SGL_DOC_10_SGL_DOC_09() -> None:
    doc = conforming_n3(dataclasses.replace(s.crbio_input(s.biochemistry()), mentions=MENTIONS))
    text = _comment_text(doc)
    assert text == [MENTIONS.rgpd]
    assert not doc.xpath("//c:td/c:content[contains(following-sibling::text()[1], '*')]", namespaces=NS)


@pytest.mark.req("SGL.DOC.10")
def test_accredited_lines_without_a_cofrac_number_are_refused_SGL_DOC_10() -> None:
    data = dataclasses.replace(s.crbio_input(s.biochemistry()), mentions=Mentions(), accredited=frozenset({"tsh"}))
    with pytest.raises(InvalidInput) as caught:
        write_n3(data)
    assert caught.value.expression == ["CrBioInput.mentions.cofrac_number"]


def test_qualified_identity_without_birthplace_names_the_fhir_element() -> None:
    data = s.crbio_input(s.biochemistry())
    patient = copy.deepcopy(data.patient)
    patient["extension"] = [e for e in patient["extension"] if "birthPlace" not in e["url"]]
    with pytest.raises(InvalidInput) as caught:
        write_n3(dataclasses.replace(data, patient=patient))
    assert caught.value.expression == ["Patient.extension:birthPlace (FR Core INSEE code)"]


def _with_cofrac_lab(data: CrBioInput) -> CrBioInput:
    lab = {**data.laboratory, "identifier": [*data.laboratory["identifier"],
                                             {"system": "urn:oid:1.2.250.1.213.6.3.1", "value": "8-1234"}]}
    return dataclasses.replace(data, laboratory=lab, mentions=MENTIONS)


@pytest.mark.req("SGL.DOC.10")
def test_cofrac_id_in_the_header_only_with_an_accredited_result_SGL_DOC_10() -> None:
    cofrac = "//c:responsibleParty//c:representedOrganization/c:id[@root='1.2.250.1.213.6.3.1']/@extension"
    without = conforming_n3(_with_cofrac_lab(s.crbio_input(s.biochemistry())))
    assert values(without, cofrac) == []
    accredited = dataclasses.replace(_with_cofrac_lab(s.crbio_input(s.biochemistry())), accredited=frozenset({"tsh"}))
    assert values(conforming_n3(accredited), cofrac) == ["8-1234"]


def test_local_code_in_a_non_iso_oid_system_is_refused_not_written() -> None:
    observations = s.biochemistry()
    observations[0]["code"] = {"coding": [{"system": "urn:oid:000897406", "code": "TSH"}], "text": "TSH"}
    with pytest.raises(InvalidInput) as caught:
        write_n3(s.crbio_input(observations))
    assert caught.value.expression == ["DiagnosticReport.result[0].code"]


@pytest.mark.req("SGL.DOC.08")
@pytest.mark.req("SGL.DOC.09")
@pytest.mark.req("SGL.DOC.10")
def test_lab_stylesheet_shows_the_marks_and_mentions_SGL_DOC_08_SGL_DOC_09_SGL_DOC_10() -> None:
    """What a reader of the self-presenting N3 sees (the stylesheet renders entries and the comment section)."""
    data = dataclasses.replace(s.crbio_input(s.biochemistry()), mentions=MENTIONS,
                               accredited=frozenset({"tsh", "glu"}), autoverified=frozenset({"glu"}))
    xslt = etree.XSLT(etree.parse(str(stylesheet_path())))
    page = " ".join(str(xslt(conforming_n3(data).getroottree())).split())
    assert "Glucose [Moles/Volume] Sérum/Plasma * (validé automatiquement)" in page
    assert "Thyréostimuline [Unités arbitraires/Volume] Sérum/Plasma *" in page
    assert "Thyroxine libre [Masse/Volume] Sérum/Plasma *" not in page
    for text in (MENTIONS.rgpd, MENTIONS.autoverification, "Accréditation Cofrac n° 8-1234"):
        assert text in page
