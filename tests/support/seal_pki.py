"""Test seal certificates for the CR-Bio seal (SGL.DOC.19), made at run time under a test CA.

``issue_seal_certificate(ca, directory)`` imitates an IGC-Santé organisation signing certificate
("ORG SIGN", the structure's cachet): ``C=FR``, ``O=<structure>``, ``OU=<FINESS>``, ``CN=<structure>``, key usage
digitalSignature + nonRepudiation, no TLS extended usage. ``signing=False`` gives an encryption-only
certificate and ``valid_days`` a negative window an expired one, for the refusal tests.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from facades.insi.dev_pki import CertifiedKey

STRUCTURE = "LABORATOIRE TEST SEAL"
FINESS = "999000123"


def issue_seal_certificate(ca: CertifiedKey, directory: Path, *, stem: str = "seal", signing: bool = True,
                           valid_days: tuple[int, int] = (-1, 30)) -> CertifiedKey:
    """An ORG SIGN-like certificate issued by ``ca``, valid from/to ``valid_days`` around now."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, STRUCTURE),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, FINESS),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"{STRUCTURE} ORG SIGN")])
    usage = x509.KeyUsage(digital_signature=signing, content_commitment=signing, key_encipherment=not signing,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(days=valid_days[0]))
            .not_valid_after(now + dt.timedelta(days=valid_days[1]))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path = directory / f"{stem}.pem"
    key_path = directory / f"{stem}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return CertifiedKey(cert=cert_path, key=key_path)
