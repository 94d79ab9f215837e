"""The HTTP connection protocol of ``sgl serve`` (``server/http_protocol.py``) on a real socket, with a
one-route application behind the request limits (``server/http_limits.py``) in a uvicorn server of this
process: what a client that is not speaking HTTP, sends a long head, or never stops sending it, gets back."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from server.http_limits import MAX_HEAD_BYTES, RequestLimits
from server.http_protocol import DRAIN_BYTES, SglH11Protocol
from tests.support.sockets import read_until_closed


async def _hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    app = RequestLimits(_hello, max_body=1024, max_document_body=1024)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, http=SglH11Protocol, lifespan="off",
                                           log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(10)


def _exchange(port: int, *parts: bytes) -> tuple[bytes, int]:
    """Send ``parts`` (stopping when the server has closed) and read until it closes: (answer, bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for part in parts:
            try:
                sock.sendall(part)
            except OSError:
                break  # the server closed after its answer
            sent += len(part)
        return read_until_closed(sock), sent


def _outcome(answer: bytes) -> dict[str, Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/fhir+json" in head.lower()
    outcome: dict[str, Any] = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    return outcome


def test_what_is_not_http_gets_a_400_operation_outcome(port: int) -> None:
    answer, _ = _exchange(port, b"\x16\x03\x01 this is a TLS hello, not HTTP\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert _outcome(answer)["issue"][0]["code"] == "structure"


def test_a_head_just_under_the_limit_is_served_and_one_over_is_431(port: int) -> None:
    def request(padding: int) -> bytes:
        return b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * padding + b"\r\nConnection: close\r\n\r\n"

    served, _ = _exchange(port, request(MAX_HEAD_BYTES - 200))
    assert served.startswith(b"HTTP/1.1 200 ") and served.endswith(b"ok")
    whole, _ = _exchange(port, request(MAX_HEAD_BYTES + 1))  # one read: measured by the request limits
    assert whole.startswith(b"HTTP/1.1 431 ")
    piece = request(MAX_HEAD_BYTES + 1)
    in_pieces, _ = _exchange(port, piece[:-20], piece[-20:])  # buffered incomplete: the connection protocol
    assert in_pieces.startswith(b"HTTP/1.1 431 Request Header Fields Too Large")
    for refused in (whole, in_pieces):
        assert _outcome(refused)["issue"][0]["code"] == "too-long"


def test_a_client_that_never_ends_its_head_is_answered_then_cut_off(port: int) -> None:
    chunk = b"b" * 65536
    bound = 128 * DRAIN_BYTES  # far beyond the loopback socket buffers of this machine (32 MB + 4 MB)
    endless = [b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: "] + [chunk] * (bound // len(chunk))
    answer, sent = _exchange(port, *endless)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert sent < bound  # the server closed after its drain allowance: the client could not send on
