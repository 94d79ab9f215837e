"""``resources.transport``: telling a certificate refusal (which a person must fix) from a partner that is down or
dropped an answer, over real TLS sockets on loopback with the test PKI (a server that requires a client
certificate, as the DMP and the INSi do)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from resources.transport import certificate_refused, is_trust_refusal
from tests.support.pki import TestPki, client_context, create_test_pki, issue_client_certificate, server_context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return create_test_pki(tmp_path_factory.mktemp("transport-pki"))


@pytest.fixture
async def tls_server(pki: TestPki) -> AsyncIterator[str]:
    """A TLS server requiring a client certificate of the test CA; it waits for a request it never answers."""
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):  # a refused handshake (ssl.SSLError is an OSError)
            await reader.read(1)
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0, ssl=server_context(pki))
    port = server.sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}/registry"
    server.close()
    await server.wait_closed()


async def test_a_refused_client_certificate_is_told_from_an_accepted_one(pki: TestPki, tls_server: str,
                                                                         tmp_path: Path) -> None:
    other_ca = create_test_pki(tmp_path / "other")
    stranger = issue_client_certificate(other_ca.ca, tmp_path, stem="stranger", common_name="AUTRE-STRUCTURE")
    host, port = httpx.URL(tls_server).host, httpx.URL(tls_server).port or 443
    refused = await certificate_refused(host, port, client_context(pki, stranger))
    assert "refuse" in refused and "client certificate" in refused
    assert await certificate_refused(host, port, client_context(pki)) == ""


async def test_an_untrusted_server_and_a_host_name_mismatch_are_trust_refusals(pki: TestPki, tls_server: str,
                                                                               tmp_path: Path) -> None:
    foreign = create_test_pki(tmp_path / "foreign")
    async with httpx.AsyncClient(verify=client_context(foreign, pki.client)) as client:
        with pytest.raises(httpx.TransportError) as untrusted:
            await client.post(tls_server, content=b"<x/>")
    assert is_trust_refusal(untrusted.value)
    port = int(tls_server.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(ssl.SSLCertVerificationError) as mismatch:  # the certificate names 127.0.0.1 and localhost
        await asyncio.open_connection("127.0.0.1", port, ssl=client_context(pki), server_hostname="dmp.example")
    assert "mismatch" in str(mismatch.value).lower() and is_trust_refusal(mismatch.value)
    assert not is_trust_refusal(ConnectionRefusedError(111, "Connection refused"))
