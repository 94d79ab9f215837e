"""The VIHF we sign for automatic sending, beside ANS's own example (``kits/vihf``: the "VIHF avec automate" of
the trans-cda-r2 IG's mapping page): the same attributes with the same fixed values, the same AUTOMATE role and
purpose of use, the same signature algorithms. What the example leaves as placeholders (XXXX) is not compared."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from facades.dmp import Seal, VihfSubject
from facades.dmp.vihf import HL7, SAML, X509_NAME, build_vihf
from tests.support.dmp import crbio_submission
from tests.support.pki import TestPki, create_test_pki

from .conftest import SOFTWARE

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
