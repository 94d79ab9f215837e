"""The client's answers when the operator is down, offers no STARTTLS, or refuses the certificate's SASL step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiosmtpd.smtp import SMTP, AuthResult

from facades.mssante import MssRejected, MssTlsRefused, MssUnreachable, build_message
from facades.mssante.simulator import Mailboxes, OperatorHandle
from facades.mssante.simulator.smtp import OperatorHandler
from facades.mssante.tls import server_context
from tests.support.mssante import SENDER, OperatorPki, client_for, report_mail
from tests.support.sgl_server import free_ports

PRO = "dr.martin@medecin.mssante.fr"


class RefusingHandler(OperatorHandler):
    async def auth_EXTERNAL(self, server: SMTP, args: list[str]) -> AuthResult:
        return AuthResult(success=False, handled=False)


async def _server(protocol: object) -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, "127.0.0.1", 0)  # type: ignore[arg-type]
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@pytest.fixture
async def plain_operator() -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    async for port in _server(lambda: SMTP(OperatorHandler(Mailboxes()), loop=loop)):
        yield port


@pytest.fixture
async def refusing_operator(ops: OperatorPki) -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    context = server_context(ops.pki.server.cert, ops.pki.server.key, ops.pki.ca.cert)
    async for port in _server(lambda: SMTP(RefusingHandler(Mailboxes()), tls_context=context, require_starttls=True,
                                           auth_exclude_mechanism=["LOGIN", "PLAIN"], loop=loop)):
        yield port


@pytest.mark.req("SGL.MSS.01")
async def test_operator_without_starttls_gets_nothing_SGL_MSS_01(ops: OperatorPki, plain_operator: int) -> None:
    with pytest.raises(MssTlsRefused, match="does not offer STARTTLS"):
        await client_for(ops, plain_operator, plain_operator).send(build_message(report_mail(PRO), SENDER))


async def test_refused_certificate_authentication_is_a_rejection(ops: OperatorPki, refusing_operator: int) -> None:
    with pytest.raises(MssRejected, match="AUTH EXTERNAL 535"):
        await client_for(ops, refusing_operator, refusing_operator).send(build_message(report_mail(PRO), SENDER))


async def test_operator_down_is_unreachable(ops: OperatorPki) -> None:
    port, = free_ports(1)
    client = client_for(ops, port, port)
    with pytest.raises(MssUnreachable, match="unreachable"):
        await client.send(build_message(report_mail(PRO), SENDER))
    with pytest.raises(MssUnreachable, match="unreachable"):
        await client.fetch_receipts()


async def test_imap_without_starttls_is_refused(ops: OperatorPki, operator: OperatorHandle) -> None:
    async def no_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK bonjour\r\n")
        await writer.drain()
        tag = (await reader.readline()).split(b" ")[0]
        writer.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
        await writer.drain()
        await reader.readline()
        writer.close()

    server = await asyncio.start_server(no_tls, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(MssTlsRefused, match="STARTTLS on IMAP"):
            await client_for(ops, operator.smtp_port, port).fetch_receipts()
    finally:
        server.close()
