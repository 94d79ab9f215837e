"""A CRL for a test CA, so that the client's revocation check (SGL.MSS.06) runs for real on loopback.

The client refuses an operator whose CA has no current CRL, so ``sgl mssante-simulator`` writes
one next to its test PKI, and the tests write one that revokes the operator's certificate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def write_crl(ca_cert: Path, ca_key: Path, out: Path, *, revoked: Sequence[Path] = (), days: int = 7,
              age_days: int = 0) -> Path:
    """Sign a CRL listing the certificates in ``revoked``; ``age_days`` back-dates it (an out-of-date CRL)."""
    issuer = x509.load_pem_x509_certificate(ca_cert.read_bytes())
    key = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{ca_key} is not an RSA key")
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=age_days)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
               .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=days)))
    for path in revoked:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(now).build())
    out.write_bytes(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    return out
