"""A faithful INSi simulator: SOAP 1.2 over HTTPS with mandatory client certificates, on asyncio.

A deliberately small HTTP/1.1 server (POST with ``Content-Length``, keep-alive) rather than an
ASGI stack, because the simulator must see the client certificate itself (the real service
checks its CN) and ASGI servers do not pass it on. The TLS layer refuses any client whose
certificate is not signed by the configured CA, as the INSi refuses one not issued by IGC-Santé.

- :func:`start_insi_simulator` for tests: returns a handle with ``.port``, ``.url``, ``.stop()``.
- :func:`run_simulator` for ``sgl insi-simulator --port P``: serves until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from facades.insi.dev_pki import ensure_test_pki
from facades.insi.directory import KIT_DIR, Directory
from facades.insi.envelope import CONTENT_TYPE
from facades.insi.simulated_service import Reply, SimulatedInsi

log = logging.getLogger(__name__)

PATH = "/lps"
MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024
IDLE_TIMEOUT = 30.0
MAX_REQUESTS_PER_CONNECTION = 1000
KEPT_REQUESTS = 1000
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    500: "Internal Server Error",
}


def server_ssl_context(certfile: Path, keyfile: Path, cafile: Path) -> ssl.SSLContext:
    """TLS 1.2+ server context that requires a client certificate issued by ``cafile``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(cafile))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(certfile), str(keyfile))
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _common_name(peercert: object) -> str | None:
    if not isinstance(peercert, dict):
        return None
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


@dataclass
class SimulatorHandle:
    """A running simulator; ``received`` keeps the last request bodies it was sent, oldest first."""

    host: str
    port: int
    server: asyncio.Server
    received: list[bytes] = field(default_factory=list)
    connections: dict[asyncio.Task[None], asyncio.StreamWriter] = field(default_factory=dict)
    closing: bool = False

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}{PATH}"

    async def stop(self) -> None:
        """Stop listening, close the open connections and wait (at most 5 s) for their handlers to end.

        Closing the transports rather than cancelling the handlers lets each one end normally
        (cancelled stream callbacks are reported as errors by asyncio on Python 3.11).
        """
        self.closing = True
        self.server.close()
        for writer in self.connections.values():
            writer.close()
        if self.connections:
            _, pending = await asyncio.wait(list(self.connections), timeout=5.0)
            for task in pending:
                task.cancel()
        await self.server.wait_closed()


def _response(reply: Reply, *, keep_alive: bool) -> bytes:
    head = (
        f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Error')}\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\nContent-Length: {len(reply.body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode("ascii") + reply.body


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | Reply:
    """One request (method, target, headers, body), or the error reply to send before closing."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return Reply(400, b"")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower() or not headers.get("content-length", "").isdigit():
        return Reply(411, b"")
    length = int(headers["content-length"])
    if length > MAX_BODY:
        return Reply(413, b"")
    body = await asyncio.wait_for(reader.readexactly(length), IDLE_TIMEOUT)
    return parts[0], parts[1], headers, body


async def _serve_connection(
    handle: SimulatorHandle,
    service: SimulatedInsi,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    task = asyncio.current_task()
    if task is not None:
        handle.connections[task] = writer
    common_name = _common_name(writer.get_extra_info("peercert"))
    try:
        for _ in range(0 if handle.closing else MAX_REQUESTS_PER_CONNECTION):
            request = await _read_request(reader)
            if isinstance(request, Reply):
                writer.write(_response(request, keep_alive=False))
                await writer.drain()
                return
            method, target, headers, body = request
            if target.split("?")[0] != PATH:
                reply = Reply(404, b"")
            elif method != "POST":
                reply = Reply(405, b"")
            else:
                handle.received.append(body)
                del handle.received[:-KEPT_REQUESTS]
                reply = service.handle(body, common_name)
            keep_alive = headers.get("connection", "").lower() != "close"
            writer.write(_response(reply, keep_alive=keep_alive))
            await writer.drain()
            if not keep_alive:
                return
    except (
        asyncio.IncompleteReadError,
        asyncio.LimitOverrunError,
        TimeoutError,
        ConnectionError,
        ssl.SSLError,
    ):
        return  # the client went away, stalled or sent garbage: drop the connection
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError, asyncio.CancelledError):
            await writer.wait_closed()
        if task is not None:
            handle.connections.pop(task, None)


async def start_insi_simulator(
    host: str,
    port: int,
    certfile: Path,
    keyfile: Path,
    cafile: Path,
    *,
    kit_dir: Path = KIT_DIR,
    accepted_idams: Collection[str] | None = None,
) -> SimulatorHandle:
    """Serve the simulated INSi on ``https://host:port/lps`` (port 0 picks a free one)."""
    service = SimulatedInsi(Directory(kit_dir), accepted_idams, x509.load_pem_x509_certificate(cafile.read_bytes()))
    holder: list[SimulatorHandle] = []

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _serve_connection(holder[0], service, reader, writer)

    server = await asyncio.start_server(
        on_connection, host, port, limit=MAX_HEAD, ssl=server_ssl_context(certfile, keyfile, cafile)
    )
    bound = server.sockets[0].getsockname()[1]
    holder.append(SimulatorHandle(host=host, port=bound, server=server))
    log.info("simulated INSi listening on %s", holder[0].url)
    return holder[0]


async def _serve_forever(host: str, port: int, cert_dir: Path) -> None:
    pki = ensure_test_pki(cert_dir)
    handle = await start_insi_simulator(host, port, pki.server.cert, pki.server.key, pki.ca.cert)
    log.info("client certificate %s, key %s, CA %s", pki.client.cert, pki.client.key, pki.ca.cert)
    try:
        await asyncio.Event().wait()
    finally:
        await handle.stop()


def run_simulator(port: int, cert_dir: Path, host: str = "127.0.0.1") -> None:
    """Entry point of ``sgl insi-simulator``: make the test PKI in ``cert_dir`` if needed, serve until ^C."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(host, port, cert_dir))
