"""Revocation of the operator's certificate by OCSP (RFC 6960), the other way SGL.MSS.06 allows beside the CRL.

Asked right after the TLS handshake and before any mail command, when the operator's certificate names an
OCSP responder (Authority Information Access) or the lab configured one (``SGL_MSS_OCSP``). Fail closed:
the connection is refused, with the reason, when

- the responder cannot be reached or does not answer ``successful`` (revocation cannot be checked);
- the answer is not signed by the certificate's issuer or by a responder certificate that issuer delegated
  (``id-kp-OCSPSigning``), or is about another certificate;
- the certificate is ``revoked`` or ``unknown`` to the responder;
- the answer is out of date (``nextUpdate`` passed, or older than ``max_age`` when it has none) or from the
  future (beyond a few minutes of clock skew).

The issuer is looked for among the configured IGC-Santé CA certificates (the ``roots`` file, which lists the
intermediate CAs too): the one whose key signed the operator's certificate. One small HTTP POST per session,
on the same short timeout as the mail session (a lab sends a few hundred mails a day).
"""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from facades.mssante.errors import MssTlsRefused

SKEW = dt.timedelta(minutes=5)
MAX_AGE = dt.timedelta(days=4)
"""How old an answer without ``nextUpdate`` may be (IGC-Santé publishes its CRLs at least every few days)."""
MAX_ANSWER = 64 * 1024


def responder_urls(cert: x509.Certificate) -> list[str]:
    """The OCSP URLs of the certificate's Authority Information Access extension (maybe none)."""
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [str(d.access_location.value) for d in access if d.access_method == AuthorityInformationAccessOID.OCSP
            and isinstance(d.access_location, x509.UniformResourceIdentifier)]


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def find_issuer(cert: x509.Certificate, roots: Path) -> x509.Certificate:
    for candidate in x509.load_pem_x509_certificates(roots.read_bytes()):
        if candidate.subject == cert.issuer and _signed_by(cert, candidate):
            return candidate
    raise MssTlsRefused("TLS refused: the issuer of the operator certificate is not among the configured IGC-Santé "
                        "CAs: OCSP cannot be checked (SGL.MSS.06)")


def _verify(answer: ocsp.OCSPResponse, issuer: x509.Certificate) -> None:
    """The answer is signed by the issuer, or by a responder certificate the issuer made for OCSP signing."""
    signer = issuer
    for delegated in answer.certificates:
        if _signed_by(delegated, issuer):
            try:
                usage = delegated.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            except x509.ExtensionNotFound:
                continue
            if ExtendedKeyUsageOID.OCSP_SIGNING in usage:
                signer = delegated
    key, algorithm = signer.public_key(), answer.signature_hash_algorithm
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(answer.signature, answer.tbs_response_bytes, ec.ECDSA(algorithm))
        else:
            raise InvalidSignature
    except InvalidSignature as exc:
        raise MssTlsRefused("TLS refused: the OCSP answer is not signed by the operator certificate's CA "
                            "(SGL.MSS.06)") from exc


def _fetch(url: str, request: bytes, timeout: float) -> bytes:
    """POST the request (stdlib ``urllib``: an OCSP responder is plain HTTP, and building an HTTPS-capable client
    for each session cost more than the exchange itself)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise MssTlsRefused(f"TLS refused: OCSP responder {url!r} is not an http(s) URL (SGL.MSS.06)")
    post = urllib.request.Request(url, data=request, method="POST", headers={
        "Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"})
    try:
        with urllib.request.urlopen(post, timeout=timeout) as answer:  # noqa: S310 (scheme checked above)
            body: bytes = answer.read(MAX_ANSWER + 1)
    except urllib.error.HTTPError as exc:
        raise MssTlsRefused(f"TLS refused: the OCSP responder {url} answered HTTP {exc.code}: revocation cannot be "
                            "checked (SGL.MSS.06)") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise MssTlsRefused(f"TLS refused: the OCSP responder {url} cannot be reached ({type(exc).__name__}): "
                            "revocation cannot be checked (SGL.MSS.06)") from exc
    if len(body) > MAX_ANSWER:
        raise MssTlsRefused(f"TLS refused: the OCSP responder {url} answered more than {MAX_ANSWER} bytes (SGL.MSS.06)")
    return body


def check_ocsp(leaf_der: bytes, roots: Path, responder: str | None, *, timeout: float = 10.0,
               now: dt.datetime | None = None) -> str:
    """Check the operator certificate (DER, as the TLS session gave it); ``""`` when no responder is known
    (the CRL then decides), else ``"OCSP good (<url>)"``; :class:`MssTlsRefused` with the reason otherwise."""
    cert = x509.load_der_x509_certificate(leaf_der)
    urls = [responder] if responder else responder_urls(cert)
    if not urls:
        return ""
    issuer = find_issuer(cert, roots)
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    raw = _fetch(urls[0], request.public_bytes(serialization.Encoding.DER), timeout)
    try:
        answer = ocsp.load_der_ocsp_response(raw)
    except ValueError as exc:
        raise MssTlsRefused(f"TLS refused: unreadable OCSP answer from {urls[0]} (SGL.MSS.06)") from exc
    if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise MssTlsRefused(f"TLS refused: the OCSP responder answered {answer.response_status.name.lower()}: "
                            "revocation cannot be checked (SGL.MSS.06)")
    _verify(answer, issuer)
    single = next((r for r in answer.responses if r.serial_number == cert.serial_number
                   and r.issuer_key_hash == request.issuer_key_hash), None)
    if single is None:
        raise MssTlsRefused("TLS refused: the OCSP answer is about another certificate (SGL.MSS.06)")
    moment = now or dt.datetime.now(dt.UTC)
    if single.this_update_utc > moment + SKEW:
        raise MssTlsRefused("TLS refused: the OCSP answer is dated in the future (SGL.MSS.06)")
    if (single.next_update_utc or single.this_update_utc + MAX_AGE) < moment:
        produced = f"{single.this_update_utc:%Y-%m-%d %H:%M}"
        raise MssTlsRefused(f"TLS refused: the OCSP answer is out of date (produced {produced} UTC) (SGL.MSS.06)")
    if single.certificate_status == ocsp.OCSPCertStatus.REVOKED:
        when = f" on {single.revocation_time_utc:%Y-%m-%d}" if single.revocation_time_utc else ""
        raise MssTlsRefused(f"TLS refused: the operator certificate is revoked{when} (OCSP) (SGL.MSS.06)")
    if single.certificate_status != ocsp.OCSPCertStatus.GOOD:
        raise MssTlsRefused("TLS refused: the OCSP responder does not know the operator certificate (SGL.MSS.06)")
    return f"OCSP good ({urls[0]})"
