"""The generated test PKI: IGC-Santé-like organisation certificate, loopback server certificate, reuse."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.pki import create_test_pki, ensure_test_pki, issue_client_certificate


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    return str(name.get_attributes_for_oid(oid)[0].value)


def test_client_certificate_looks_like_an_igc_sante_org_auth_cli(tmp_path: Path) -> None:
    pki = create_test_pki(tmp_path)
    client = _cert(pki.client.cert)
    assert _attr(client.subject, NameOID.COMMON_NAME) == "INSI-AUTO"
    assert _attr(client.subject, NameOID.COUNTRY_NAME) == "FR"
    assert _attr(client.subject, NameOID.ORGANIZATIONAL_UNIT_NAME) == "10B0000000"
    assert _attr(client.issuer, NameOID.COMMON_NAME) == "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"
    usage = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    client.verify_directly_issued_by(_cert(pki.ca.cert))


def test_server_certificate_names_loopback(tmp_path: Path) -> None:
    pki = create_test_pki(tmp_path)
    server = _cert(pki.server.cert)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert list(server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH
    ]


def test_private_keys_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    pki = create_test_pki(tmp_path)
    for key in (pki.ca.key, pki.server.key, pki.client.key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_other_roles_can_be_issued(tmp_path: Path) -> None:
    pki = create_test_pki(tmp_path)
    manu = issue_client_certificate(pki.ca, tmp_path, stem="manu", common_name="INSI-MANU", structure_id="3750000001")
    cert = _cert(manu.cert)
    assert _attr(cert.subject, NameOID.COMMON_NAME) == "INSI-MANU"
    assert _attr(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME) == "3750000001"
    assert manu.cert.name == "manu.pem" and pki.client.cert.read_bytes() != manu.cert.read_bytes()


def test_ensure_reuses_a_complete_pki_and_remakes_a_broken_one(tmp_path: Path) -> None:
    first = ensure_test_pki(tmp_path)
    ca_pem = first.ca.cert.read_bytes()
    assert ensure_test_pki(tmp_path).ca.cert.read_bytes() == ca_pem
    first.client.key.unlink()
    remade = ensure_test_pki(tmp_path)
    assert remade.client.key.is_file()
    assert remade.ca.cert.read_bytes() != ca_pem


def test_ensure_remakes_a_pki_about_to_expire(tmp_path: Path) -> None:
    old = create_test_pki(tmp_path, days=0)
    ca_pem = old.ca.cert.read_bytes()
    assert ensure_test_pki(tmp_path).ca.cert.read_bytes() != ca_pem
