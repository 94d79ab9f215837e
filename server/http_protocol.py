"""The HTTP/1.1 connection protocol of ``sgl serve``: uvicorn's h11 protocol, with its refusals answered.

uvicorn reads a request's head with h11, which keeps at most ``MAX_HEAD_BYTES`` of an incomplete head in
memory (a head that arrives whole in one read is measured by ``server/http_limits.py`` instead). A client
that sent more (a 200 KB cookie, a runaway header) got a plain-text 400 written just before uvicorn closed
the socket with the rest of the client's head unread: the kernel answers unread bytes with a reset, which
can destroy the answer in flight, and then the client saw only a dropped connection.

Here a refused head is answered like every other error, with an ``OperationOutcome``: 431 (Request
Header Fields Too Large, issue ``too-long``) when the head passes the limit, 400 (``structure``) when it
is not HTTP. The server then closes its sending side only and reads and discards what the client still
sends, for at most ``DRAIN_BYTES`` or ``DRAIN_SECONDS``, so that the answer reaches the client before the
socket closes. Nothing of a refused request reaches the application.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from resources.errors import Issue, operation_outcome
from resources.fhirjson import dumps
from server.http_limits import HEAD_TOO_LARGE, MAX_HEAD_BYTES

DRAIN_BYTES = 1024 * 1024
"""What is read and thrown away after a refusal so that the client reads the answer; past it, close."""
DRAIN_SECONDS = 5.0

_REASONS = {400: b"Bad Request", 431: b"Request Header Fields Too Large"}


class _RefusalRecordingConnection(h11.Connection):
    """An h11 server connection that remembers the status h11 suggests for the request it refused."""

    refused_status = 400

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.refused_status = exc.error_status_hint
            raise


def refusal_body(status: int) -> bytes:
    """The ``OperationOutcome`` of a request refused before its head was read."""
    if status == 431:
        issue = Issue(code="too-long", diagnostics=HEAD_TOO_LARGE)
    else:
        issue = Issue(code="structure", diagnostics="not a well-formed HTTP/1.1 request; nothing was processed")
    return dumps(operation_outcome([issue]))


class SglH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering a refused request head with an ``OperationOutcome``."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.conn: _RefusalRecordingConnection = _RefusalRecordingConnection(h11.SERVER, MAX_HEAD_BYTES)
        self._drained: int | None = None
        """Bytes thrown away since the refusal was answered (None: no refusal on this connection)."""

    def data_received(self, data: bytes) -> None:
        if self._drained is None:
            super().data_received(data)
            return
        self._drained += len(data)
        if self._drained > DRAIN_BYTES:
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """Called by uvicorn for every request head h11 refuses (the name is uvicorn's)."""
        status = self.conn.refused_status if self.conn.refused_status in _REASONS else 400
        body = refusal_body(status)
        headers = [(b"content-type", b"application/fhir+json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        self.transport.write(self.conn.send(h11.Response(status_code=status, headers=headers,
                                                         reason=_REASONS[status])) or b"")
        self.transport.write(self.conn.send(h11.Data(data=body)) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self._drained = 0
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the answer, then FIN; reading goes on until the client is done
            self.loop.call_later(DRAIN_SECONDS, self.transport.close)
        else:  # TLS cannot half-close: close as uvicorn does
            self.transport.close()
