"""Test PKI for simulators on loopback (INSi, DMP, MSSanté): generated at run time, never committed.

Usage in a test or fixture::

    from tests.support.pki import create_test_pki, issue_client_certificate, client_context

    pki = create_test_pki(tmp_path)                 # CA + server (127.0.0.1, localhost) + client
    server_ctx = server_context(pki)                # requires a client certificate from pki.ca
    ctx = client_context(pki)                       # presents pki.client, trusts only pki.ca
    other = issue_client_certificate(pki.ca, tmp_path, stem="manu", common_name="INSI-MANU")

Files (PEM, keys unencrypted, mode 0600) in the directory: ``ca.pem``/``ca-key.pem``,
``server.pem``/``server-key.pem``, ``client.pem``/``client-key.pem``. The client certificate
imitates an IGC-Santé organisation authentication certificate ("ORG AUTH_CLI"): ``C=FR``,
``O=<structure>``, ``OU=<structure id>``, ``CN=<service role>`` (``INSI-AUTO`` by default),
issued by a CA named ``TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS``.

The generator itself is :mod:`facades.insi.dev_pki`, because ``sgl insi-simulator`` needs it
outside the tests; this module is the stable import for tests and adds the SSL contexts.
"""

from __future__ import annotations

import ssl

from facades.insi.dev_pki import (
    CertifiedKey,
    TestPki,
    create_ca,
    create_test_pki,
    ensure_test_pki,
    issue_client_certificate,
    issue_server_certificate,
)

__all__ = [
    "CertifiedKey",
    "TestPki",
    "client_context",
    "create_ca",
    "create_test_pki",
    "ensure_test_pki",
    "issue_client_certificate",
    "issue_server_certificate",
    "server_context",
]


def client_context(
    pki: TestPki, client: CertifiedKey | None = None, *, with_certificate: bool = True
) -> ssl.SSLContext:
    """A client context trusting only ``pki.ca``, presenting ``client`` (default ``pki.client``) if asked."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(pki.ca.cert))
    if with_certificate:
        chosen = client or pki.client
        context.load_cert_chain(str(chosen.cert), str(chosen.key))
    return context


def server_context(pki: TestPki, *, require_client_certificate: bool = True) -> ssl.SSLContext:
    """A server context for ``pki.server``; by default it requires a client certificate from ``pki.ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca.cert))
    context.load_cert_chain(str(pki.server.cert), str(pki.server.key))
    context.verify_mode = ssl.CERT_REQUIRED if require_client_certificate else ssl.CERT_NONE
    return context
