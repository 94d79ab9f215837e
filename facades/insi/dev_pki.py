"""A throw-away PKI for simulators and tests: a CA, a TLS server certificate, client certificates.

The real INSi (and the DMP, MSSanté) authenticate the lab with an IGC-Santé organisation
certificate ("ORG AUTH_CLI": subject ``O=<structure>``, ``OU=<structure id>``,
``CN=INSI-AUTO`` or ``INSI-MANU``) issued by ``AC IGC-SANTE ELEMENTAIRE ORGANISATIONS``. This module
imitates that layout with keys generated at run time, so that mutual TLS is exercised for real
on loopback without ever committing a key. It lives here, not under ``tests/``, because the
``sgl insi-simulator`` command needs it too; ``tests/support/pki.py`` is the test-facing import.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_COMMON_NAME = "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"
CA_ORGANISATION = "AGENCE DU NUMERIQUE EN SANTE"


@dataclass(frozen=True)
class CertifiedKey:
    """A PEM certificate and its unencrypted PEM private key, as files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class TestPki:
    """The files of one generated PKI; ``ca`` is both the trust anchor and the issuer."""

    __test__ = False  # not a pytest test class despite its name

    directory: Path
    ca: CertifiedKey
    server: CertifiedKey
    client: CertifiedKey


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write(path: Path, data: bytes, *, private: bool = False) -> Path:
    path.write_bytes(data)
    if private:
        path.chmod(0o600)
    return path


def _save(directory: Path, stem: str, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> CertifiedKey:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return CertifiedKey(
        cert=_write(directory / f"{stem}.pem", cert.public_bytes(serialization.Encoding.PEM)),
        key=_write(directory / f"{stem}-key.pem", key_pem, private=True),
    )


def _builder(subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey, days: int) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _load_ca(ca: CertifiedKey) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{ca.key} is not an RSA key")
    return cert, key


def _leaf(
    ca: CertifiedKey,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    days: int,
    san: list[x509.GeneralName] | None = None,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    ca_cert, ca_key = _load_ca(ca)
    key = _new_key()
    builder = (
        _builder(subject, ca_cert.subject, key, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=True,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def create_ca(directory: Path, *, common_name: str = CA_COMMON_NAME, days: int = 30) -> CertifiedKey:
    """A self-signed CA named like the IGC-Santé test CA, saved as ``ca.pem`` / ``ca-key.pem``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = _new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, CA_ORGANISATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "IGC-SANTE TEST"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    cert = (
        _builder(name, name, key, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return _save(directory, "ca", cert, key)


def issue_server_certificate(
    ca: CertifiedKey,
    directory: Path,
    *,
    stem: str = "server",
    hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
    days: int = 30,
) -> CertifiedKey:
    """A TLS server certificate whose SAN lists ``hosts`` (DNS names or IP addresses)."""
    san: list[x509.GeneralName] = []
    for host in hosts:
        try:
            san.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            san.append(x509.DNSName(host))
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OPENSGL SIMULATEUR"),
            x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
        ]
    )
    cert, key = _leaf(ca, subject, ExtendedKeyUsageOID.SERVER_AUTH, days, san)
    return _save(directory, stem, cert, key)


def issue_client_certificate(
    ca: CertifiedKey,
    directory: Path,
    *,
    stem: str = "client",
    common_name: str = "INSI-AUTO",
    organisation: str = "LABORATOIRE OPENSGL TEST",
    structure_id: str = "10B0000000",
    days: int = 30,
) -> CertifiedKey:
    """An organisation authentication certificate laid out like an IGC-Santé ORG AUTH_CLI one.

    ``structure_id`` is the structure's identifier as IGC-Santé puts it in ``OU`` (for example a
    FINESS or SIRET prefixed by its type); ``common_name`` is the service role the INSi checks.
    """
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, structure_id),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    cert, key = _leaf(ca, subject, ExtendedKeyUsageOID.CLIENT_AUTH, days)
    return _save(directory, stem, cert, key)


def create_test_pki(directory: Path, *, client_common_name: str = "INSI-AUTO", days: int = 30) -> TestPki:
    """Generate a fresh CA, a loopback server certificate and an organisation client certificate."""
    ca = create_ca(directory, days=days)
    return TestPki(
        directory=directory,
        ca=ca,
        server=issue_server_certificate(ca, directory, days=days),
        client=issue_client_certificate(ca, directory, common_name=client_common_name, days=days),
    )


def _usable(files: list[CertifiedKey], ca: CertifiedKey) -> bool:
    """Every file present, every certificate valid for at least another day and issued by ``ca``."""
    if not all(f.cert.is_file() and f.key.is_file() for f in files):
        return False
    issuer = x509.load_pem_x509_certificate(ca.cert.read_bytes()).subject
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for f in files:
        cert = x509.load_pem_x509_certificate(f.cert.read_bytes())
        if cert.not_valid_after_utc < soon or cert.issuer != issuer:
            return False
    return True


def ensure_test_pki(directory: Path) -> TestPki:
    """Reuse the PKI in ``directory`` while it is complete and valid for another day, else make a new one."""
    names = ("ca", "server", "client")
    existing = TestPki(directory, *(CertifiedKey(directory / f"{n}.pem", directory / f"{n}-key.pem") for n in names))
    if _usable([existing.ca, existing.server, existing.client], existing.ca):
        return existing
    return create_test_pki(directory)
