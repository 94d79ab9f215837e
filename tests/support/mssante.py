"""MSSanté test helpers: an operator PKI with its CRL, bad operator certificates, a client, a mail.

``operator_pki(dir)`` makes a test IGC-Santé CA, the operator's server certificate (127.0.0.1),
the lab's applicative BAL certificate and a current empty CRL. ``reissue`` re-signs a certificate
with other dates (expired, not yet valid) or just another serial (to revoke it). Generated at run
time, never committed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID

from facades.mssante import MssClient, OperatorConfig, ReportMail, Sender
from facades.mssante.dev_crl import write_crl
from tests.support.pki import CertifiedKey, TestPki, create_test_pki

KIT_N3 = Path("/work/shared/kits/ans-cda-testkit/ExemplesCDA/BIO-CR-BIO_2024.01_TSH_1.xml")
BAL = "labo-resultats@labo-opensgl.mssante.fr"
CONTACT = "secretariat@labo-opensgl.mssante.fr"
SENDER = Sender(address=BAL, label="Laboratoire OpenSGL - Résultats", contact=CONTACT,
                lab_name="Laboratoire OpenSGL", nil="OPENSGL-NIL-0001", source_oid="1.2.250.1.999.1")


@dataclass(frozen=True)
class OperatorPki:
    pki: TestPki
    crl: Path

    @property
    def directory(self) -> Path:
        return self.pki.directory


def operator_pki(directory: Path) -> OperatorPki:
    pki = create_test_pki(directory, client_common_name="BAL-APPLICATIVE")
    return OperatorPki(pki, write_crl(pki.ca.cert, pki.ca.key, directory / "crl.pem"))


def reissue(ca: CertifiedKey, source: CertifiedKey, directory: Path, stem: str, *,
            not_before: dt.datetime | None = None, not_after: dt.datetime | None = None,
            ocsp_url: str | None = None) -> CertifiedKey:
    """``source``'s subject, key and extensions under a new serial, signed by ``ca``, with the given dates;
    ``ocsp_url``: naming that OCSP responder in an Authority Information Access extension."""
    cert = x509.load_pem_x509_certificate(source.cert.read_bytes())
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(ca_cert.subject)
               .public_key(cert.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before or cert.not_valid_before_utc)
               .not_valid_after(not_after or cert.not_valid_after_utc))
    for extension in cert.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    if ocsp_url:
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]), critical=False)
    out = CertifiedKey(directory / f"{stem}.pem", directory / f"{stem}-key.pem")
    out.cert.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    shutil.copy(source.key, out.key)
    return out


def days_ago(n: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=n)


def client_for(ops: OperatorPki, smtp_port: int, imap_port: int, *, crls: tuple[Path, ...] | None = None,
               roots: Path | None = None, ocsp: str | None = None) -> MssClient:
    """The production client with the lab's BAL certificate, trusting the test CA and its CRL (``crls=()``:
    none, revocation by OCSP only; ``ocsp``: the configured responder)."""
    return MssClient(OperatorConfig("127.0.0.1", smtp_port, "127.0.0.1", imap_port, ops.pki.client.cert,
                                    ops.pki.client.key, roots or ops.pki.ca.cert,
                                    (ops.crl,) if crls is None else crls, timeout=10.0, ocsp=ocsp))


def report_mail(*to: str, **changes: object) -> ReportMail:
    """A CR-Bio mail carrying the ANS kit's TSH example as N3 and a tiny PDF."""
    fields: dict[str, object] = {
        "to": to, "subject": "XDM/1.0/DDM+Compte rendu d'examens biologiques PAT-TROIS DOMINIQUE",
        "body": "Bonjour,\nVeuillez trouver ci-joint le compte rendu d'examens biologiques.",
        "n3": KIT_N3.read_bytes(), "pdf": b"%PDF-1.4\n%test\n", "pdf_name": "CR-BIO_PAT-TROIS_20210401_V1.pdf",
    }
    fields.update(changes)
    return ReportMail(**fields)  # type: ignore[arg-type]
