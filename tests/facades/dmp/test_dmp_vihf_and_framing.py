"""Units of the DMP facade without a server: the signed VIHF, the XAdES manifest, MTOM framing, answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree

from facades.dmp import DmpAnswerUnreadable, DmpBusy, DmpRejected, RegistryError, Seal, VihfSubject, codes, mtom
from facades.dmp.response import read_response, registry_response, soap_fault
from facades.dmp.vihf import RESOURCE_ID, SAML, VihfInvalid, build_vihf, verify_vihf
from facades.dmp.xades import SignatureInvalid, sign_submission, verify_submission_signature
from tests.support.dmp import BIOLOGIST, SOFTWARE, crbio_submission
from tests.support.pki import TestPki, create_test_pki

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return create_test_pki(tmp_path_factory.mktemp("vihf-pki"))


def _seal(pki: TestPki) -> Seal:
    return Seal.from_files(pki.client.cert, pki.client.key)


def _ca(pki: TestPki) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(pki.ca.cert).read_bytes())


@pytest.mark.req("SGL.DMP.01")
def test_the_vihf_of_a_biologist_is_signed_and_names_the_biologist_and_the_patient_SGL_DMP_01(pki: TestPki) -> None:
    assertion = build_vihf(VihfSubject.professional(BIOLOGIST), crbio_submission(), SOFTWARE, _seal(pki), NOW)
    signature = assertion.find(f"{{{codes.DS}}}Signature")
    assert signature is not None and assertion.index(signature) == 1  # right after Issuer, as SAML requires
    assert signature.find(f".//{{{codes.DS}}}SignatureMethod").get("Algorithm").endswith("rsa-sha256")
    content = verify_vihf(etree.fromstring(etree.tostring(assertion)), _ca(pki), NOW)
    assert content.name_id == "810001234567" and content.roles == ("21", "SP12")
    assert content.resource_id == "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert content.attributes["VIHF_Version"] == "3.0" and content.attributes["Ressource_URN"] == "urn:dmp"
    assert content.attributes["Secteur_Activite"] == "SA25^1.2.250.1.71.4.2.4"
    assert content.issuer == _seal(pki).subject_dn


def test_an_expired_vihf_is_refused(pki: TestPki) -> None:
    assertion = build_vihf(VihfSubject.professional(BIOLOGIST), crbio_submission(), SOFTWARE, _seal(pki),
                           NOW - timedelta(hours=1))
    with pytest.raises(VihfInvalid, match="expired"):
        verify_vihf(assertion, _ca(pki), NOW)


def test_a_validly_signed_vihf_without_the_patient_is_refused(pki: TestPki) -> None:
    seal = _seal(pki)
    assertion = build_vihf(VihfSubject.professional(BIOLOGIST), crbio_submission(), SOFTWARE, seal, NOW)
    for node in assertion.findall(f"{{{codes.DS}}}Signature"):
        assertion.replace(node, etree.Element(f"{{{codes.DS}}}Signature", Id="placeholder"))
    for attribute in assertion.iter(f"{{{SAML}}}Attribute"):
        if attribute.get("Name") == RESOURCE_ID:
            attribute.getparent().remove(attribute)
    resigned = seal.signer().sign(assertion, key=seal.key_pem, cert=seal.cert_pem.decode(),
                                  reference_uri=f"#{assertion.get('ID')}", id_attribute="ID")
    with pytest.raises(VihfInvalid, match="resource-id"):
        verify_vihf(resigned, _ca(pki), NOW)


def test_an_unsigned_vihf_is_refused(pki: TestPki) -> None:
    assertion = build_vihf(VihfSubject.professional(BIOLOGIST), crbio_submission(), SOFTWARE, _seal(pki), NOW)
    assertion.remove(assertion.find(f"{{{codes.DS}}}Signature"))
    with pytest.raises(VihfInvalid, match="not signed"):
        verify_vihf(assertion, _ca(pki), NOW)


def test_the_xades_manifest_covers_the_set_and_every_document(pki: TestPki) -> None:
    docs = {"1.2.3^a": b"<ClinicalDocument/>", "1.2.3^b": b"%PDF-1.4"}
    signature = sign_submission("2.25.1", docs, _seal(pki))
    assert b"SignedProperties" in signature and b'URI="urn:oid:1.2.3^a"' in signature
    assert verify_submission_signature(signature, _ca(pki), "2.25.1", docs) == _seal(pki).subject_dn
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify_submission_signature(signature, _ca(pki), "2.25.1", {**docs, "1.2.3^b": b"%PDF-1.5"})
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify_submission_signature(signature, _ca(pki), "2.25.2", docs)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify_submission_signature(signature.replace(b"2026", b"2027", 1), _ca(pki), "2.25.1", docs)
    with pytest.raises(SignatureInvalid, match="not XML"):
        verify_submission_signature(b"<x", _ca(pki), "2.25.1", docs)


def test_mtom_round_trip_and_truncation() -> None:
    encoded = mtom.encode(b"<root/>", {"a@x": ("application/octet-stream", b"\r\n--binary\r\n")}, "urn:a")
    message = mtom.split(encoded.content_type, encoded.body)
    assert message.envelope == b"<root/>" and message.parts == {"a@x": b"\r\n--binary\r\n"}
    with pytest.raises(mtom.MtomUnreadable, match="truncated"):
        mtom.split(encoded.content_type, encoded.body[:-20])
    with pytest.raises(mtom.MtomUnreadable, match="boundary"):
        mtom.split("multipart/related; type=application/xop+xml", encoded.body)
    holder = etree.Element("Document")
    mtom.include(holder, "missing@x")
    with pytest.raises(mtom.MtomUnreadable, match="names no MIME part"):
        mtom.resolve(holder, {})


def test_registry_answers_are_classified() -> None:
    busy = RegistryError("XDSRegistryBusy", "later", codes.SEVERITY_ERROR)
    metadata = RegistryError("XDSRegistryMetadataError", "slot", codes.SEVERITY_ERROR)
    duplicate = RegistryError(codes.DUPLICATE_UNIQUE_ID, "again", codes.SEVERITY_ERROR)
    assert read_response(registry_response([], "a", "m")).duplicates is False
    assert read_response(registry_response([duplicate], "a", "m")).duplicates is True
    with pytest.raises(DmpBusy):
        read_response(registry_response([busy], "a", "m"))
    with pytest.raises(DmpRejected) as caught:
        read_response(registry_response([busy, metadata], "a", "m"))
    assert caught.value.permanent and [e.code for e in caught.value.errors] == ["XDSRegistryBusy",
                                                                                "XDSRegistryMetadataError"]
    with pytest.raises(DmpBusy):
        read_response(soap_fault("Receiver", "", "down"))
    with pytest.raises(DmpRejected):
        read_response(soap_fault("Sender", "wsse:InvalidSecurity", "no VIHF"))
    for bad in (b"not xml", b"<a/>", b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/>'
                b"</s:Envelope>"):
        with pytest.raises(DmpAnswerUnreadable):
            read_response(bad)


def test_the_dmp_refuses_a_submission_signature_carrying_a_dtd(pki: TestPki) -> None:
    """The simulator's XAdES check parsed with lxml's default parser, which expands entities and reads files."""
    docs = {"1.2.3^a": b"<ClinicalDocument/>"}
    signature = sign_submission("2.25.1", docs, _seal(pki))
    declaration, _, rest = signature.partition(b"?>")
    xxe = (declaration + b'?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           + rest.replace(b"</ds:Signature>", b"<ds:Object>&e;</ds:Object></ds:Signature>"))
    with pytest.raises(SignatureInvalid, match="DTD") as caught:
        verify_submission_signature(xxe, _ca(pki), "2.25.1", docs)
    assert "root:" not in str(caught.value)
