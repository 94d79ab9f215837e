"""The structure's seal ("cachet", IGC-Santé ORG SIGN) certificate, and XML-DSig with it (signxml).

Both the VIHF and the XAdES signature of the submission set are signed RSA-SHA256 with exclusive
canonicalisation and carry the certificate in ``KeyInfo``. A receiver trusts a signature only when
that certificate was issued by its CA (:func:`issued_by`) and the signature verifies with it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


@dataclass(frozen=True)
class Seal:
    """A PEM certificate and its private key; ``issuer_dn`` is the VIHF ``Issuer``."""

    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def from_files(cls, cert: Path, key: Path) -> Seal:
        return cls(cert.read_bytes(), key.read_bytes())

    @cached_property
    def private_key(self) -> rsa.RSAPrivateKey:
        """Loaded once: cryptography checks an RSA key on load (about 0.1 s), too slow for every signature."""
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("the seal key is not an RSA key")
        return key

    @cached_property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    @cached_property
    def subject_dn(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def signer(self) -> XMLSigner:
        return XMLSigner(signature_algorithm=SignatureMethod.RSA_SHA256, digest_algorithm=DigestAlgorithm.SHA256,
                         c14n_algorithm=EXC_C14N)


def issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """True when ``ca`` signed ``cert`` (RSA) and ``cert`` names it as issuer."""
    if cert.issuer != ca.subject:
        return False
    key = ca.public_key()
    if not isinstance(key, rsa.RSAPublicKey) or cert.signature_hash_algorithm is None:
        return False
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
    except Exception:
        return False
    return True


def certificate_in(signature_b64: str) -> x509.Certificate:
    """The certificate of a ``ds:X509Certificate`` text (base64 DER, line breaks allowed)."""
    return x509.load_der_x509_certificate(base64.b64decode("".join(signature_b64.split())))
