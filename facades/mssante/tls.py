"""The MSSanté TLS rules (SGL.MSS.01–06), for the client and for the local operator simulator.

- TLS 1.2 and nothing else (MSS.01, MSS.02): the context's minimum and maximum are both 1.2.
- Only the cipher suites 0xC030, 0xC02F, 0xC028, 0xC027 (MSS.03), i.e. ECDHE-RSA with AES-GCM or
  AES-CBC/SHA-2, given to OpenSSL by their OpenSSL names.
- The operator's certificate must chain to the configured IGC-Santé roots and only to them (MSS.04:
  the system trust store is never loaded), be within its validity (MSS.05: OpenSSL checks both
  dates of every certificate in the chain) and not be revoked (MSS.06: CRLs loaded into the
  context with ``VERIFY_CRL_CHECK_CHAIN``, so a chain without a current CRL for each issuer is
  refused too: fail closed rather than accept an unchecked certificate; and/or OCSP, asked by the
  client right after the handshake, :mod:`facades.mssante.ocsp`).

OpenSSL enforces all of that during the handshake; :func:`check_session` then re-checks the
negotiated version and suite so that a context built elsewhere cannot slip through.
"""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Sequence
from pathlib import Path

from facades.mssante.errors import MssTlsRefused

CIPHER_SUITES: dict[int, str] = {
    0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
    0xC02F: "ECDHE-RSA-AES128-GCM-SHA256",
    0xC028: "ECDHE-RSA-AES256-SHA384",
    0xC027: "ECDHE-RSA-AES128-SHA256",
}
"""The four suites of ECO.1.1.3, by IANA code, with their OpenSSL names."""
OPENSSL_CIPHERS = ":".join(CIPHER_SUITES.values())


def _restrict(context: ssl.SSLContext) -> ssl.SSLContext:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(OPENSSL_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    return context


def client_context(cert: Path, key: Path, roots: Path, crls: Sequence[Path] = ()) -> ssl.SSLContext:
    """The lab's side: present the applicative BAL's IGC-Santé certificate, trust only ``roots``.

    ``roots`` is a PEM file of the IGC-Santé CA certificates; ``crls`` PEM files of their current
    CRLs (downloaded from the IGC-Santé publication points by the operator of the lab): with them,
    every certificate of the chain needs a current CRL. Without any, the client asks OCSP after the
    handshake and refuses the session when no responder is known (MSS.06, ``client.py``).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(roots))
    for crl in crls:
        context.load_verify_locations(cafile=str(crl))
    if crls:  # without CRLs, revocation is OCSP's (facades/mssante/ocsp.py); the client refuses when neither
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    context.load_cert_chain(str(cert), str(key))
    return _restrict(context)


def server_context(cert: Path, key: Path, client_roots: Path, *, maximum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
                   ciphers: str = OPENSSL_CIPHERS) -> ssl.SSLContext:
    """The operator's side (simulator): require a client certificate issued by ``client_roots``.

    ``maximum`` and ``ciphers`` exist so that tests can stand up a non-conforming operator (TLS 1.1,
    a suite outside the list) and check that the client refuses it.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_verify_locations(cafile=str(client_roots))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(str(cert), str(key))
    _restrict(context)
    if maximum != ssl.TLSVersion.TLSv1_2:
        with warnings.catch_warnings():  # a deliberately obsolete protocol: the test of MSS.02 wants it
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            context.maximum_version = maximum
    if ciphers != OPENSSL_CIPHERS:
        context.set_ciphers(ciphers)
    return context


def check_session(sock: ssl.SSLSocket | ssl.SSLObject) -> str:
    """Refuse a session that is not TLS 1.2 with a listed suite; return ``"TLSv1.2 <suite>"``."""
    version, cipher = sock.version(), (sock.cipher() or ("", "", 0))[0]
    if version != "TLSv1.2":
        raise MssTlsRefused(f"TLS refused: the operator negotiated {version}, only TLSv1.2 is allowed (SGL.MSS.02)")
    if cipher not in CIPHER_SUITES.values():
        raise MssTlsRefused(f"TLS refused: cipher suite {cipher} is not one of {OPENSSL_CIPHERS} (SGL.MSS.03)")
    return f"{version} {cipher}"


def probe_context(cert: Path, key: Path) -> ssl.SSLContext:
    """For diagnosis only, after a refused handshake: accept anything so as to see what the operator offers.

    Operators require the client certificate before finishing any handshake, so it is presented;
    no mail command is sent over the session and the caller closes it right away.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.load_cert_chain(str(cert), str(key))
    return context


def offered(version: str | None, cipher: str) -> str:
    """What a probe saw, as the rule it breaks (or ``""`` when the operator looks conforming)."""
    if version != "TLSv1.2":
        return f"the operator negotiates {version} instead of TLSv1.2 (SGL.MSS.02)"
    if cipher not in CIPHER_SUITES.values():
        return f"the operator chooses cipher suite {cipher}, not one of 0xC030/0xC02F/0xC028/0xC027 (SGL.MSS.03)"
    return ""


def explain(exc: ssl.SSLError | ssl.CertificateError) -> str:
    """A handshake failure in words, naming the MSSanté rule it most likely breaks."""
    text = str(getattr(exc, "verify_message", "") or exc.reason or exc)
    lowered = text.lower() + " " + str(exc).lower()
    rules = (
        ("crl has expired", "the CRL of the operator's CA is out of date (SGL.MSS.06)"),
        ("expired", "the operator certificate has expired (SGL.MSS.05)"),
        ("not yet valid", "the operator certificate is not yet valid (SGL.MSS.05)"),
        ("revoked", "the operator certificate is revoked (SGL.MSS.06)"),
        ("unable to get certificate crl", "no CRL for the operator's CA: revocation cannot be checked (SGL.MSS.06)"),
        ("unable to get local issuer", "the operator certificate does not chain to the IGC-Santé roots (SGL.MSS.04)"),
        ("self-signed", "the operator certificate does not chain to the IGC-Santé roots (SGL.MSS.04)"),
        ("hostname mismatch", "the operator certificate does not name the server (SGL.MSS.04)"),
        ("unsupported protocol", "the operator does not speak TLS 1.2 (SGL.MSS.02)"),
        ("wrong version", "the operator does not speak TLS 1.2 (SGL.MSS.02)"),
        ("no shared cipher", "no cipher suite in common with 0xC030/0xC02F/0xC028/0xC027 (SGL.MSS.03)"),
        ("handshake failure", "handshake refused: no common TLS 1.2 cipher suite or our certificate refused "
                              "(SGL.MSS.03)"),
    )
    for needle, meaning in rules:
        if needle in lowered:
            return f"TLS refused: {meaning} [{text}]"
    return f"TLS refused: {text}"
