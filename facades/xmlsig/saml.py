"""Enveloped XML-DSig of a SAML 2.0 assertion with the structure's seal, and its verification.

Signing puts ``ds:Signature`` right after ``saml2:Issuer`` (the SAML schema's place), RSA-SHA256, exclusive
c14n, referencing the assertion's ``ID``, with the certificate in ``KeyInfo``. Verifying checks that the
certificate was issued by the trusted CA, that the signature verifies, and returns the element *as signed*
(read attributes from it only, so that a wrapped or altered assertion cannot pass).
"""

from __future__ import annotations

from cryptography import x509
from lxml import etree
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

from facades.xmlsig.seal import EXC_C14N, Seal, certificate_in, issued_by
from resources.outside_xml import outside_xml_parser

DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


class SignatureRefused(Exception):
    """The assertion is unsigned, signed by an untrusted certificate, or altered since it was signed."""


def sign_assertion(assertion: etree._Element, seal: Seal) -> etree._Element:
    """The signed copy of ``assertion`` (which must carry an ``ID`` and an ``Issuer``)."""
    issuer = assertion.find(f"{{{SAML}}}Issuer")
    placeholder = etree.Element(f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS})
    if issuer is None:
        assertion.insert(0, placeholder)
    else:
        issuer.addnext(placeholder)
    signed: etree._Element = seal.signer().sign(assertion, key=seal.private_key, cert=seal.cert_pem.decode("ascii"),
                                                reference_uri=f"#{assertion.get('ID')}", id_attribute="ID")
    return signed


def verify_assertion(assertion: etree._Element, ca: x509.Certificate) -> tuple[etree._Element, x509.Certificate]:
    """The assertion as signed and its signing certificate; :class:`SignatureRefused` says what is wrong."""
    cert_text = assertion.findtext(f"{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    if not cert_text:
        raise SignatureRefused("not signed (no ds:Signature with an X509Certificate after Issuer)")
    try:
        cert = certificate_in(cert_text)
    except ValueError as exc:
        raise SignatureRefused(f"signing certificate unreadable: {exc}") from exc
    if not issued_by(cert, ca):
        raise SignatureRefused(f"signed by {cert.subject.rfc4514_string()}, not issued by the trusted CA")
    try:
        result = XMLVerifier().verify(etree.tostring(assertion), x509_cert=cert, id_attribute="ID",
                                      parser=outside_xml_parser(),
                                      expect_config=SignatureConfiguration(default_reference_c14n_method=EXC_C14N))
    except (InvalidSignature, InvalidInput) as exc:
        raise SignatureRefused(f"signature does not verify: {exc}") from exc
    signed = result.signed_xml if not isinstance(result, list) else None
    if signed is None or signed.tag != assertion.tag:
        raise SignatureRefused("the signature does not cover the assertion")
    return signed, cert
