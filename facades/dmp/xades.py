"""The XAdES signature of a submission set, sent as one more DocumentEntry (DMP "lot de soumission signé").

An enveloping XAdES-BES signature (signxml, RSA-SHA256, exclusive c14n) whose signed object is a
``ds:Manifest Id="IHEManifest"`` with one ``ds:Reference`` per submitted item: ``urn:oid:<submission
set uniqueId>`` and ``urn:oid:<document uniqueId>``, each with the SHA-256 digest of its bytes (for
the submission set, of its uniqueId). The Manifest's references are not dereferenced by XML-DSig
itself: :func:`verify_submission_signature` checks the signature, then compares every digest with the
documents actually received.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography import x509
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.xades.xades import XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

from facades.dmp import codes
from facades.xmlsig import EXC_C14N, Seal, certificate_in, issued_by
from resources.outside_xml import outside_xml_parser, parse_outside_xml

SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


class SignatureInvalid(Exception):
    """The submission-set signature is missing, broken, or does not match what was submitted."""


def _digest(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode("ascii")


def sign_submission(submission_set_uid: str, documents: dict[str, bytes], seal: Seal) -> bytes:
    """The signature document over the submission set and ``documents`` (uniqueId -> content)."""
    ds = codes.DS
    manifest = etree.Element(f"{{{ds}}}Manifest", Id="IHEManifest", nsmap={"ds": ds})
    items = {submission_set_uid: submission_set_uid.encode("utf-8"), **documents}
    for unique_id, content in items.items():
        reference = etree.SubElement(manifest, f"{{{ds}}}Reference", URI=f"urn:oid:{unique_id}")
        etree.SubElement(reference, f"{{{ds}}}DigestMethod", Algorithm=SHA256)
        etree.SubElement(reference, f"{{{ds}}}DigestValue").text = _digest(content)
    signer = XAdESSigner(method=SignatureConstructionMethod.enveloping, signature_algorithm=SignatureMethod.RSA_SHA256,
                         digest_algorithm=DigestAlgorithm.SHA256,
                         c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signature = signer.sign(manifest, key=seal.private_key, cert=seal.cert_pem.decode("ascii"))
    return bytes(etree.tostring(signature, xml_declaration=True, encoding="UTF-8"))


def verify_submission_signature(signature: bytes, ca: x509.Certificate, submission_set_uid: str,
                                documents: dict[str, bytes]) -> str:
    """Check the signature and that its Manifest covers exactly the submission set and ``documents``.

    Returns the signer's subject DN."""
    ns = {"ds": codes.DS}
    try:
        root = parse_outside_xml(signature)
    except etree.XMLSyntaxError as exc:
        raise SignatureInvalid(f"the submission-set signature is not XML: {exc}") from exc
    cert_text = root.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", None, ns)
    if root.tag != f"{{{codes.DS}}}Signature" or not cert_text:
        raise SignatureInvalid("the submission-set signature is not a ds:Signature carrying its certificate")
    cert = certificate_in(cert_text)
    if not issued_by(cert, ca):
        raise SignatureInvalid(f"the submission set is signed by {cert.subject.rfc4514_string()}, "
                               "not issued by the trusted CA")
    try:
        results = XAdESVerifier().verify(
            signature, x509_cert=cert, parser=outside_xml_parser(),
            expect_config=XAdESSignatureConfiguration(expect_references=3, default_reference_c14n_method=EXC_C14N))
    except (InvalidSignature, InvalidInput) as exc:
        raise SignatureInvalid(f"the submission-set signature does not verify: {exc}") from exc
    manifest = next((r.signed_xml.find("ds:Manifest", ns) for r in results
                     if r.signed_xml is not None and r.signed_xml.find("ds:Manifest", ns) is not None), None)
    if manifest is None:
        raise SignatureInvalid("the submission-set signature signs no ds:Manifest")
    signed = {ref.get("URI", ""): ref.findtext("ds:DigestValue", "", ns)
              for ref in manifest.findall("ds:Reference", ns)}
    expected = {f"urn:oid:{uid}": _digest(content)
                for uid, content in {submission_set_uid: submission_set_uid.encode("utf-8"), **documents}.items()}
    if signed != expected:
        wrong = sorted(set(signed.items()) ^ set(expected.items()))
        raise SignatureInvalid(f"the signed Manifest does not match the submission: {wrong[:3]}")
    return cert.subject.rfc4514_string()
