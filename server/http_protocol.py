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

A client must also send its request at a pace (``server/http_pace.py``): the head within
``SGL_HTTP_HEAD_TIMEOUT`` s (answered 408 if it had started, closed silently if nothing came), the body at
``SGL_HTTP_BODY_MIN_RATE`` bytes/s after ``SGL_HTTP_BODY_TIMEOUT`` s (closed: the application sees the client
gone and writes nothing). And the server holds at most ``SGL_MAX_HTTP_CONNECTIONS`` connections (so many per
address): one more is closed at once (``resources.connections.ConnectionGate``, which logs the first refusal
and the count). Each closing is logged with the peer's address, never what it sent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from resources.connections import ConnectionGate
from resources.errors import Issue, operation_outcome
from resources.fhirjson import dumps
from server.http_limits import HEAD_TOO_LARGE, MAX_HEAD_BYTES
from server.http_pace import HttpPace, PaceClock, Phase

log = logging.getLogger(__name__)

DRAIN_BYTES = 1024 * 1024
"""What is read and thrown away after a refusal so that the client reads the answer; past it, close."""
DRAIN_SECONDS = 5.0

_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


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
    elif status == 408:
        issue = Issue(code="timeout", diagnostics="the request line and headers did not arrive in time; "
                                                  "nothing of the request was processed")
    else:
        issue = Issue(code="structure", diagnostics="not a well-formed HTTP/1.1 request; nothing was processed")
    return dumps(operation_outcome([issue]))


class SglH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering a refused request head with an ``OperationOutcome`` and closing
    connections over the cap or too slow. ``pace`` and ``gate`` are the server's (``configured``)."""

    pace = HttpPace()
    gate: ConnectionGate | None = None

    @classmethod
    def configured(cls, pace: HttpPace, gate: ConnectionGate) -> type[SglH11Protocol]:
        """This protocol with the server's limits (uvicorn makes one instance per connection from a class)."""
        return type("ConfiguredSglH11Protocol", (cls,), {"pace": pace, "gate": gate})

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.conn: _RefusalRecordingConnection = _RefusalRecordingConnection(h11.SERVER, MAX_HEAD_BYTES)
        self._drained: int | None = None
        """Bytes thrown away since the refusal was answered (None: no refusal on this connection)."""
        self._clock = PaceClock(self.pace, self.loop.time())
        self._pace_timer: asyncio.TimerHandle | None = None
        self._admitted: str | None = None
        """The address counted in by the gate (None: not counted)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else "?"
        if self.gate is not None:
            if not self.gate.admit(address):
                transport.abort()  # over the cap: closed at once, counted and logged by the gate
                return
            self._admitted = address
        self._clock.waiting_for_head(self.loop.time())
        self._watch_pace()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._pace_timer is not None:
            self._pace_timer.cancel()
            self._pace_timer = None
        if self._admitted is not None and self.gate is not None:
            self.gate.release(self._admitted)
            self._admitted = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._drained is None:
            super().data_received(data)
            self._follow(len(data))
            return
        self._drained += len(data)
        if self._drained > DRAIN_BYTES:
            self.transport.close()

    def on_response_complete(self) -> None:
        self._clock.waiting_for_head(None)  # until the next request's first byte, uvicorn's keep-alive timeout
        super().on_response_complete()  # may read a request already sent (pipelining): followed below
        self._follow(0)
        self._watch_pace()

    def _follow(self, size: int) -> None:
        """Move the pace clock to the request's phase h11 has reached; watch the new phase's deadline."""
        phase = self._clock.phase
        state = self.conn.their_state
        self._clock.received(self.loop.time(), size, reading_body=state is h11.SEND_BODY,
                             head_done=state is not h11.IDLE)
        if self._clock.phase is not phase or (self._pace_timer is None and self._clock.deadline() is not None):
            self._watch_pace()  # a new phase, or the next request's first byte started the head's clock

    def _watch_pace(self) -> None:
        if self._pace_timer is not None:
            self._pace_timer.cancel()
            self._pace_timer = None
        deadline = self._clock.deadline()
        if deadline is not None and not self.transport.is_closing():
            self._pace_timer = self.loop.call_at(deadline, self._pace_passed)

    def _pace_passed(self) -> None:
        """A deadline came: close the connection if the client is late, else watch the next deadline."""
        self._pace_timer = None
        if self.transport.is_closing() or self._drained is not None:
            return
        now = self.loop.time()
        self._follow(0)
        if self.flow.read_paused:
            self._clock.server_not_reading(now)
        deadline = self._clock.deadline()
        if deadline is None or now < deadline:
            self._watch_pace()
            return
        phase = self._clock.phase
        peer = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        if phase is Phase.HEAD and not self._clock.head_bytes:
            log.info("HTTP connection from %s sent nothing within %g s: closed", peer, self.pace.head_timeout)
            self.transport.close()
            return
        log.warning("HTTP client %s did not send its %s in time (%s): connection closed", peer, phase.value,
                    f"{self.pace.head_timeout:g} s" if phase is Phase.HEAD else
                    f"{self._clock.body_bytes} bytes in {now - (self._clock.started or now):.0f} s, under "
                    f"{self.pace.body_min_rate:g} bytes/s after {self.pace.body_timeout:g} s")
        if phase is Phase.HEAD:
            body = refusal_body(408)
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/fhir+json\r\n"
                                 b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))
        self.transport.close()  # a body cut short: the application sees the client gone and writes nothing

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
