"""The simulated IGC-Santé OCSP responder (``POST /ocsp`` on the simulator's admin port).

It answers from the same CRL file the simulator writes (``crl.pem``), read at each request, so a test that
revokes the operator's certificate in the CRL revokes it for OCSP too. Answers are signed by the test CA
itself. ``stale`` makes it answer with dates of last week (a replayed, out-of-date answer) so that the
client's freshness rule is tested.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp

VALIDITY = dt.timedelta(hours=4)


@dataclass
class OcspResponder:
    ca_cert: Path
    ca_key: Path
    crl: Path | None = None
    stale: bool = False
    _keys: dict[Path, Any] = field(default_factory=dict, repr=False)
    """Signing keys by path: loading (and validating) an RSA key costs more than the whole answer."""

    def _signer(self) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        key = self._keys.get(self.ca_key)
        if key is None:
            key = self._keys[self.ca_key] = serialization.load_pem_private_key(self.ca_key.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return x509.load_pem_x509_certificate(self.ca_cert.read_bytes()), key

    def _revoked(self, serial: int) -> dt.datetime | None:
        if self.crl is None or not self.crl.is_file():
            return None
        entry = x509.load_pem_x509_crl(self.crl.read_bytes()).get_revoked_certificate_by_serial_number(serial)
        return entry.revocation_date_utc if entry else None

    def answer(self, body: bytes) -> bytes:
        """The DER ``OCSPResponse`` to a DER ``OCSPRequest`` (``malformedRequest`` when it cannot be read)."""
        try:
            request = ocsp.load_der_ocsp_request(body)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(serialization.Encoding.DER)
        issuer, key = self._signer()
        now = dt.datetime.now(dt.UTC) - (dt.timedelta(days=7) if self.stale else dt.timedelta(0))
        revoked = self._revoked(request.serial_number)
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash, issuer_key_hash=request.issuer_key_hash,
            serial_number=request.serial_number, algorithm=request.hash_algorithm,
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now - dt.timedelta(minutes=1), next_update=now + VALIDITY,
            revocation_time=revoked, revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
