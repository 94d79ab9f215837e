"""The VIHF we sign for automatic sending, beside ANS's own example (``kits/vihf``: the "VIHF avec automate" of
the trans-cda-r2 IG's mapping page): the same attributes with the same fixed values, the same AUTOMATE role and
purpose of use, the same signature algorithms. What the example leaves as placeholders (XXXX) is not compared."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from facades.dmp import Seal, VihfSubject, codes
from facades.dmp.vihf import HL7, SAML, X509_NAME, build_vihf
from tests.support.ans_value_sets import value_set
from tests.support.dmp import SOFTWARE, crbio_submission
from tests.support.pki import TestPki, create_test_pki

ANS_EXAMPLE = Path("/work/shared/kits/vihf/VIHF_DMP_AUTOMATE_PFI_ANS_example.xml")
DS = "http://www.w3.org/2000/09/xmldsig#"
FIXED = ("VIHF_Version", "Authentification_Mode", "Ressource_URN")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return create_test_pki(tmp_path_factory.mktemp("vihf-ref"))


def _attributes(assertion: etree._Element) -> dict[str, etree._Element]:
    return {a.get("Name", ""): a for a in assertion.iter(f"{{{SAML}}}Attribute")}


def _text(attribute: etree._Element) -> str:
    return (attribute.findtext(f"{{{SAML}}}AttributeValue") or "").strip()


def _coded(attribute: etree._Element) -> list[tuple[str | None, str | None]]:
    return [(c.get("code"), c.get("codeSystem")) for c in attribute.iter(f"{{{HL7}}}Role", f"{{{HL7}}}PurposeOfUse")]


def _algorithms(assertion: etree._Element) -> list[str | None]:
    signed_info = assertion.find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo")
    assert signed_info is not None
    return [signed_info.find(f"{{{DS}}}{tag}").get("Algorithm")  # type: ignore[union-attr]
            for tag in ("CanonicalizationMethod", "SignatureMethod", f"Reference/{{{DS}}}DigestMethod")]


@pytest.mark.req("SGL.DMP.01")
def test_the_automatic_sending_vihf_matches_the_ans_example_SGL_DMP_01(pki: TestPki) -> None:
    example = etree.parse(str(ANS_EXAMPLE)).getroot().find(f"{{{SAML}}}Assertion")
    assert example is not None
    ours = build_vihf(VihfSubject.automate("810001234567", "OpenSGL, envoi automatique, Laboratoire"),
                      crbio_submission(), SOFTWARE, Seal.from_files(pki.client.cert, pki.client.key),
                      datetime.now(UTC))
    theirs, mine = _attributes(example), _attributes(ours)
    assert set(theirs) <= set(mine), set(theirs) - set(mine)  # every attribute of the example, no fewer
    assert {n: _text(mine[n]) for n in FIXED} == {n: _text(theirs[n]) for n in FIXED}  # 3.0, INDIRECTE, urn:dmp
    for coded in ("urn:oasis:names:tc:xacml:2.0:subject:role", "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"):
        assert _coded(mine[coded]) == _coded(theirs[coded])  # AUTOMATE / 1.2.250.1.213.1.1.4.6, normal / ...248
    resource = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"
    assert _text(mine[resource]).split("^", 1)[1] == _text(theirs[resource]).split("^", 1)[1]  # ^^^&<OID>&ISO^NH
    assert _text(mine["Secteur_Activite"]).endswith("^1.2.250.1.71.4.2.4")
    assert _algorithms(ours) == _algorithms(example)  # exc-c14n, rsa-sha256, sha256
    issuers = [a.find(f"{{{SAML}}}Issuer") for a in (ours, example)]
    assert [i.get("Format") for i in issuers if i is not None] == [X509_NAME, X509_NAME]
    assert ours.findtext(f".//{{{SAML}}}AuthnContextClassRef") == example.findtext(f".//{{{SAML}}}AuthnContextClassRef")


@pytest.mark.req("SGL.DOC.16")
def test_the_document_entry_codes_are_members_of_the_ans_value_sets_with_their_labels_SGL_DOC_16() -> None:
    """typeCode, healthcareFacilityType, practiceSetting, confidentiality: code, system and the value set's own
    label (JDV_J07, J02, J04, J08 of the kit); classCode and contentTypeCode have no value set in the kit."""
    structure = crbio_submission().structure
    for coded, file_name in ((codes.TYPE_CR_BIO, "JDV_J07_XdsTypeCode_CISIS.xml"),
                             (structure.sector, "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml"),
                             (structure.practice_setting, "JDV_J04_XdsPracticeSettingCode_CISIS.xml"),
                             (codes.NORMAL, "JDV_J08_XdsConfidentialityCode_CISIS.xml")):
        code, system, display = coded
        assert value_set(file_name).get((code, system)) == display, (file_name, coded)
    assert structure.sector[0] == "SA25"  # "Laboratoire de biologie médicale" (SA29 is "d'analyses et de ...")
    assert structure.content_type[1] == "1.2.250.1.213.2.2"  # TRE_R209-TypeActivite, as the MSSanté XDM
