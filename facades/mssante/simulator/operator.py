"""The simulated operator: SMTP submission, IMAP and a small admin HTTP endpoint, one event loop.

- :func:`start_operator` (tests): returns a handle with the three ports and ``stop()``;
- :func:`run_simulator` (``sgl mssante-simulator``): serves until interrupted.

The admin endpoint (plain HTTP on loopback, for tests and harnesses only)::

    GET /_sim/messages[?to=ADDRESS][&raw=1]   JSON array: messageId, from, to, subject, headers, attachments,
                                      received (and ``raw``: the mail as received, base64, with raw=1)
    GET /_sim/inbox?address=BAL       JSON array of what that BAL can read over IMAP (receipts)
    POST /ocsp                        the IGC-Santé OCSP responder (``ocsp_responder.py``), when configured
    GET /_sim/ocsp?stale=1|0          make the responder answer out of date (or not again)
    GET /_sim/delay?seconds=S         hold each mail S seconds before taking it (0: at once)
    GET /_sim/delay?seconds=S&steps=ehlo,rcpt,data   hold each of those answers S seconds
    GET /_sim/delay?seconds=S&steps=imap              hold each IMAP answer S seconds (a slow receipts poll)
    GET /_sim/delay?seconds=S&steps=taken             take each mail at once, hold the answer to DATA S seconds
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from facades.mssante.simulator.imap import serve_imap
from facades.mssante.simulator.mailboxes import Mailboxes
from facades.mssante.simulator.ocsp_responder import OcspResponder
from facades.mssante.simulator.smtp import start_smtp
from facades.mssante.tls import server_context

log = logging.getLogger(__name__)
MAX_REQUEST = 8 * 1024
MAX_OCSP_REQUEST = 4 * 1024


@dataclass
class OperatorHandle:
    host: str
    smtp_port: int
    imap_port: int
    admin_port: int
    boxes: Mailboxes
    servers: list[asyncio.Server] = field(default_factory=list)
    ocsp: OcspResponder | None = None

    @property
    def ocsp_url(self) -> str:
        return f"http://{self.host}:{self.admin_port}/ocsp"

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5.0)


def _json(status: int, body: Any) -> bytes:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    reason = {200: "OK", 404: "Not Found", 400: "Bad Request"}.get(status, "Error")
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode("ascii") + data


def _admin_answer(boxes: Mailboxes, ocsp: OcspResponder | None, request_line: str) -> bytes:
    parts = request_line.split(" ")
    if len(parts) != 3 or parts[0] != "GET":
        return _json(400, {"error": "only GET /_sim/messages, /_sim/inbox, /_sim/ocsp and POST /ocsp"})
    target = urlsplit(parts[1])
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    if target.path == "/_sim/messages":
        return _json(200, boxes.messages(query.get("to"), raw=query.get("raw") == "1"))
    if target.path == "/_sim/inbox" and query.get("address"):
        return _json(200, [{"uid": s.uid, "seen": s.seen, "received": s.received.isoformat(),
                            "raw": s.raw.decode("utf-8", "replace")} for s in boxes.inbox(query["address"])])
    if target.path == "/_sim/delay":
        try:
            boxes.delay = min(max(float(query.get("seconds", "0")), 0.0), 30.0)
        except ValueError:
            return _json(400, {"error": "seconds must be a number"})
        boxes.delayed = frozenset(query.get("steps", "data").split(",")) & {"ehlo", "rcpt", "data", "taken", "imap"}
        return _json(200, {"delay": boxes.delay, "steps": sorted(boxes.delayed)})
    if target.path == "/_sim/ocsp" and ocsp is not None:
        ocsp.stale = query.get("stale") == "1"
        return _json(200, {"stale": ocsp.stale})
    return _json(404, {"error": f"no such path: {target.path}"})


def _ocsp_answer(ocsp: OcspResponder, body: bytes) -> bytes:
    der = ocsp.answer(body)
    return (f"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: {len(der)}\r\n"
            "Connection: close\r\n\r\n").encode("ascii") + der


def _length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return -1


async def _serve_admin(boxes: Mailboxes, ocsp: OcspResponder | None, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10.0)
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        if line.startswith("POST /ocsp ") and ocsp is not None:
            size = _length(head)
            if not 0 < size <= MAX_OCSP_REQUEST:
                writer.write(_json(400, {"error": "an OCSP request needs a Content-Length up to 4 KiB"}))
            else:
                writer.write(_ocsp_answer(ocsp, await asyncio.wait_for(reader.readexactly(size), 10.0)))
        else:
            writer.write(_admin_answer(boxes, ocsp, line))
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


def _bal_binding(bal: str) -> Callable[[dict[str, object]], str | None]:
    """Every certificate the TLS layer accepted (chained to the test CA) reads the one BAL ``bal``."""

    def bal_for(peer: dict[str, object]) -> str | None:
        return bal if peer else None

    return bal_for


async def start_operator(host: str, cert: Path, key: Path, ca: Path, *, bal: str, smtp_port: int = 0,
                         imap_port: int = 0, admin_port: int = 0, boxes: Mailboxes | None = None,
                         context: ssl.SSLContext | None = None, ocsp: OcspResponder | None = None) -> OperatorHandle:
    """Listen on the three ports (0: any free one); ``context`` overrides the MSSanté TLS rules (tests);
    ``ocsp``: also answer OCSP requests at ``POST /ocsp`` of the admin port."""
    boxes = boxes or Mailboxes()
    tls = context or server_context(cert, key, ca)
    smtp = await start_smtp(host, smtp_port, tls, boxes)
    imap = await asyncio.start_server(lambda r, w: serve_imap(r, w, tls, boxes, _bal_binding(bal)), host, imap_port,
                                      limit=64 * 1024)
    admin = await asyncio.start_server(lambda r, w: _serve_admin(boxes, ocsp, r, w), host, admin_port,
                                       limit=MAX_REQUEST)
    ports = [s.sockets[0].getsockname()[1] for s in (smtp, imap, admin)]
    handle = OperatorHandle(host, ports[0], ports[1], ports[2], boxes, [smtp, imap, admin], ocsp)
    log.info("simulated MSSanté operator: SMTP %s:%d, IMAP %s:%d, admin http://%s:%d/_sim/messages",
             host, ports[0], host, ports[1], host, ports[2])
    return handle


async def _serve_forever(host: str, cert: Path, key: Path, ca: Path, bal: str, ports: tuple[int, int, int],
                         boxes: Mailboxes, ocsp: OcspResponder | None) -> None:
    handle = await start_operator(host, cert, key, ca, bal=bal, smtp_port=ports[0], imap_port=ports[1],
                                  admin_port=ports[2], boxes=boxes, ocsp=ocsp)
    sys.stdout.write(f"SMTP 127.0.0.1:{handle.smtp_port} IMAP 127.0.0.1:{handle.imap_port} "
                     f"admin http://127.0.0.1:{handle.admin_port}/_sim/messages\n")
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await handle.stop()


def run_simulator(cert: Path, key: Path, ca: Path, *, bal: str, ports: tuple[int, int, int],
                  boxes: Mailboxes, host: str = "127.0.0.1", ocsp: OcspResponder | None = None) -> None:
    """Entry point of ``sgl mssante-simulator`` (the PKI is made by the command): serve until ^C."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(host, cert, key, ca, bal, ports, boxes, ocsp))
