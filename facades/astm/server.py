"""ASTM host over TCP: receives analyzer messages, acknowledges only what is durable, answers queries.

Per connection: the receiver state machine reassembles messages; the handler is awaited on each
complete message *before* the final frame is answered, so ACK means stored and NAK means the
instrument must retry. When the handler returns a message (the order download answering a Q
record), the host becomes the sender once the instrument's transfer has ended (EOT).

A message whose records cannot be parsed is refused (NAK, error logged with its record, line and
field), unless an ``on_invalid`` hook is given and stores it (for example in a quarantine for a
person to look at): then it is durable and is ACKed, so the instrument does not resend it in vain.

Bounded: a ``ConnectionGate`` caps the connections held (total and per source address; one more is
closed at once) and a connection silent for ``idle_timeout`` outside a transfer is closed (inside a
transfer the E1381 frame timer already applies and frees the partial message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from types import TracebackType

from facades.astm.errors import AstmLinkError, AstmRecordError
from facades.astm.framing import DEFAULT_MAX_FRAME, Receiver
from facades.astm.link import LinkContention, Timeouts, encode_message, pump, transmit
from facades.astm.model import Message
from facades.astm.records import build_message, parse_message
from resources.connections import ConnectionGate

log = logging.getLogger(__name__)

Handler = Callable[[str, Message], Awaitable[Message | None]]
InvalidHandler = Callable[[str, AstmRecordError], Awaitable[None]]
current_peer: ContextVar[str] = ContextVar("astm_peer", default="")
"""``ip:port`` of the instrument whose message the handler is processing (set per connection task), so
that a handler can check where a message comes from without a wider handler signature."""


AUTO = "auto"


def decode(data: bytes, encoding: str) -> tuple[str, str]:
    """The text of a message and the character set it was read with. ``auto``: UTF-8 when the bytes
    are valid UTF-8 and not plain ASCII (``µ`` as C2 B5), else Latin-1 (which reads any byte)."""
    if encoding != AUTO:
        return data.decode(encoding), encoding
    if data.isascii():
        return data.decode("ascii"), "ascii"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


class _Connection:
    """One instrument connection: receive, store through the handler, send back answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler,
                 on_invalid: InvalidHandler | None, timeouts: Timeouts, encoding: str, max_frame: int,
                 idle_timeout: float | None = None) -> None:
        self.reader, self.writer = reader, writer
        self.idle_timeout = idle_timeout
        self.handler, self.on_invalid = handler, on_invalid
        self.timeouts, self.encoding = timeouts, encoding
        self.answer_encoding = "latin-1" if encoding == AUTO else encoding
        self.receiver = Receiver(max_errors=timeouts.max_retries + 1, max_frame=max_frame)
        self.outbox: list[bytes] = []
        self.retry_at = 0.0
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    async def run(self) -> None:
        log.info("ASTM connection from %s", self.peer)
        current_peer.set(self.peer)
        loop = asyncio.get_running_loop()
        try:
            while True:
                if self.outbox and not self.receiver.receiving and loop.time() >= self.retry_at:
                    await self._send_answer()
                    continue
                idle = max(self.retry_at - loop.time(), 0.0) if self.outbox else self.idle_timeout
                outcome = await pump(self.reader, self.writer, self.receiver, self._store,
                                     timeouts=self.timeouts, idle_timeout=idle)
                if outcome == "closed":
                    break
                if outcome == "idle" and not self.outbox:
                    log.info("ASTM connection from %s idle for %g s: closed", self.peer, self.idle_timeout)
                    break
        except (ConnectionError, AstmLinkError) as exc:
            log.warning("ASTM connection from %s lost: %s", self.peer, exc)
        finally:
            if self.outbox:
                log.error("ASTM %d answer(s) to %s not delivered: connection closed",
                          len(self.outbox), self.peer)
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
            log.info("ASTM connection from %s closed", self.peer)

    async def _send_answer(self) -> None:
        try:
            await transmit(self.reader, self.writer, self.outbox[0], timeouts=self.timeouts, host=True)
            self.outbox.pop(0)
        except LinkContention:  # the instrument sends first; its next ENQ is ACKed by the receiver
            self.retry_at = asyncio.get_running_loop().time() + self.timeouts.host_contention
        except AstmLinkError as exc:
            log.error("ASTM answer to %s dropped: %s", self.peer, exc)
            self.outbox.pop(0)

    async def _store(self, data: bytes) -> bool:
        """Parse and hand the message to the handler; True only once it is durable."""
        try:
            text, charset = decode(data, self.encoding)
        except UnicodeDecodeError as exc:
            log.error("ASTM message from %s refused: not %s text (%s)", self.peer, self.encoding, exc)
            return False
        self.answer_encoding = "latin-1" if charset == "ascii" else charset  # answer as the instrument writes
        try:
            message = parse_message(text)
            message.charset = charset
        except AstmRecordError as exc:
            log.error("ASTM message from %s refused: %s", self.peer, exc.diagnostics)
            if self.on_invalid is None:
                return False
            try:
                await self.on_invalid(text, exc)
            except Exception:
                log.exception("ASTM on_invalid hook failed for a message from %s: NAK", self.peer)
                return False
            return True
        try:
            answer = await self.handler(text, message)
        except Exception as exc:
            log.error("ASTM handler failed on a message from %s, NAK so that it is resent: %r",
                      self.peer, exc, exc_info=True)
            return False
        results = len(message.results())
        log.info("ASTM message from %s stored: %d patient(s), %d result(s), %d query(ies)",
                 self.peer, len(message.patients), results, len(message.queries))
        if answer is not None:
            try:
                self.outbox.append(encode_message(build_message(answer), self.answer_encoding))
            except AstmRecordError as exc:  # the message is stored all the same: ACK it
                log.error("ASTM answer to %s cannot be built, not sent: %s", self.peer, exc.diagnostics)
        return True


class AstmServer:
    """A running ASTM host; ``await stop()`` (or ``async with``) closes it and every connection."""

    def __init__(self, server: asyncio.Server, tasks: set[asyncio.Task[None]]) -> None:
        self._server = server
        self._tasks = tasks
        address = server.sockets[0].getsockname()
        self.host: str = str(address[0])
        self.port: int = int(address[1])  # the bound port, useful with port 0

    async def stop(self) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        log.info("ASTM server stopped")

    async def __aenter__(self) -> AstmServer:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()


async def start_astm_server(handler: Handler, host: str = "127.0.0.1", port: int = 0, *,
                            on_invalid: InvalidHandler | None = None, timeouts: Timeouts | None = None,
                            encoding: str = AUTO, max_frame: int = DEFAULT_MAX_FRAME,
                            gate: ConnectionGate | None = None, idle_timeout: float | None = None) -> AstmServer:
    """Listen for instruments; ``handler(text, message)`` must store the message durably and may
    return a message to send back (the order download answering a Q record).

    ``encoding``: a codec, or ``auto`` (UTF-8 when the bytes are UTF-8, else Latin-1; answers go out
    in the character set the instrument last used). ``max_frame``: the longest frame accepted.
    ``gate`` and ``idle_timeout`` bound what instruments can hold (None: unbounded)."""
    tasks: set[asyncio.Task[None]] = set()
    settings = timeouts or Timeouts()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else str(peer)
        if gate is not None and not gate.admit(address):
            writer.transport.abort()  # over the cap: closed at once, counted by the gate
            return
        # stop() cancels this inner task; asyncio.wait keeps its cancellation from surfacing in the
        # stream callback, which Python 3.11 would log as an unhandled error.
        connection = _Connection(reader, writer, handler, on_invalid, settings, encoding, max_frame, idle_timeout)
        task = asyncio.create_task(connection.run())
        tasks.add(task)
        try:
            await asyncio.wait({task})
        finally:
            tasks.discard(task)
            if gate is not None:
                gate.release(address)
        if not task.cancelled() and task.exception() is not None:
            log.error("ASTM connection failed", exc_info=task.exception())

    server = await asyncio.start_server(connected, host, port)
    astm = AstmServer(server, tasks)
    log.info("ASTM server listening on %s:%d", astm.host, astm.port)
    return astm
