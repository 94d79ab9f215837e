"""The MLLP server: receive HL7 v2 messages over TCP and answer each with AA, AE or AR.

Except an acknowledgment (MSH-9 ``ACK``): it goes to the handler like any message (to be journaled) and gets no
answer, whatever the handler decided, since HL7 v2 does not acknowledge acknowledgments (``ack.is_acknowledgment``).

Messages from one connection are handled one after the other, in order. The ACK of a message is
written only after the handler returned, because the handler stores the raw message durably first
("acknowledge only what is durable"). What a failure is answered (AE or AR, ERR code and location)
is decided by one table, ``outcome.RULES``, for the server's own parse errors as for what a handler
raises; either way the connection goes on with the next message. ``stop()`` stops listening, closes
idle connections at once and lets connections busy with a message finish it (up to a grace period).

Bounded against hostile or broken peers: a ``ConnectionGate`` caps the connections held (total and per
source address; one more is closed at once), a connection silent for ``idle_timeout`` between messages
is closed, and one that stops for ``frame_timeout`` in the middle of a frame is closed with the
unfinished frame freed; a frame over ``max_message_size`` keeps only its head (answered AR).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from facades.hl7v2.ack import build_ack, build_ack_for_unreadable, is_acknowledgment
from facades.hl7v2.errors import FrameTooLarge, Hl7ParseError
from facades.hl7v2.message import Hl7Message
from facades.hl7v2.mllp import DEFAULT_MAX_SIZE, MllpDecoder, encode_frame
from facades.hl7v2.outcome import AckDecision, ack_error, decide
from facades.hl7v2.parser import check_header, codec_for, parse
from resources.connections import ConnectionGate
from resources.errors import Forbidden, InvalidInput

log = logging.getLogger(__name__)

READ_CHUNK = 64 * 1024
PARSE_IN_THREAD = 256 * 1024
"""A message larger than this (an ORU with an embedded PDF) is parsed in a worker thread, off the event
loop that serves every other connection."""


@dataclass(frozen=True)
class InboundMessage:
    """A received message as the handler sees it: exact bytes plus the parsed form."""

    raw: bytes
    message: Hl7Message
    peer: str
    connection_id: int
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


Handler = Callable[[InboundMessage], Awaitable[AckDecision]]
UnreadableHook = Callable[[bytes, str, str], Awaitable[None]]
"""Called with (raw bytes, peer, reason) before an unreadable message is answered AR: a quarantine."""


@dataclass
class _Connection:
    peer: str
    busy: bool = False
    messages: int = 0


class MllpServer:
    """A running MLLP listener; build it with ``start_mllp_server``."""

    def __init__(self, handler: Handler, *, max_message_size: int = DEFAULT_MAX_SIZE,
                 handler_timeout: float | None = None, stop_grace: float = 10.0,
                 on_unreadable: UnreadableHook | None = None, gate: ConnectionGate | None = None,
                 idle_timeout: float | None = None, frame_timeout: float | None = None) -> None:
        self._handler = handler
        self._gate = gate
        self._idle_timeout = idle_timeout
        self._frame_timeout = frame_timeout
        self._on_unreadable = on_unreadable
        self._max_message_size = max_message_size
        self._handler_timeout = handler_timeout
        self._stop_grace = stop_grace
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], _Connection] = {}
        self._ids = itertools.count(1)
        self._closing = False
        self.acks: dict[str, int] = {"AA": 0, "AE": 0, "AR": 0}
        self.unanswered = 0
        """Acknowledgments received, handed to the handler (the journal) and not answered."""

    @property
    def host(self) -> str:
        return str(self._sockname()[0])

    @property
    def port(self) -> int:
        """The bound TCP port (useful when started on port 0)."""
        return int(self._sockname()[1])

    def _sockname(self) -> tuple[str, int]:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the MLLP server is not listening")
        name: tuple[str, int] = self._server.sockets[0].getsockname()[:2]
        return name

    async def start(self, host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self._server = await asyncio.start_server(self._serve, host, port, ssl=ssl_context)
        log.info("MLLP server listening on %s:%d%s", self.host, self.port, " (TLS)" if ssl_context else "")

    async def stop(self) -> None:
        """Stop listening; close idle connections now and busy ones once their message is answered."""
        if self._server is None:
            return
        server, self._server = self._server, None
        self._closing = True
        server.close()
        for task, conn in list(self._connections.items()):
            if not conn.busy:
                task.cancel()
        tasks = list(self._connections)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self._stop_grace)
            for task in late:
                log.error("MLLP connection from %s still busy after %.1fs: cancelled",
                          self._connections[task].peer, self._stop_grace)
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        log.info("MLLP server stopped (acks sent: %s)", self.acks)

    async def __aenter__(self) -> MllpServer:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        address = str(peername[0]) if peername else "?"
        if self._gate is not None and not self._gate.admit(address):
            writer.transport.abort()  # over the cap: closed at once, counted by the gate (not logged each time)
            return
        try:
            await self._serve_admitted(reader, writer, peername)
        finally:
            if self._gate is not None:
                self._gate.release(address)

    async def _read(self, reader: asyncio.StreamReader, in_frame: bool) -> bytes:
        """The next chunk; TimeoutError once the peer is silent too long (shorter inside a frame)."""
        limit = self._frame_timeout if in_frame and self._frame_timeout is not None else self._idle_timeout
        async with asyncio.timeout(limit):
            return await reader.read(READ_CHUNK)

    async def _serve_admitted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                              peername: Any) -> None:
        conn_id = next(self._ids)
        conn = _Connection(f"{peername[0]}:{peername[1]}" if peername else "?")
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = conn
        decoder = MllpDecoder(self._max_message_size)
        log.info("MLLP connection %d opened from %s", conn_id, conn.peer)
        reason = "peer closed the connection"
        try:
            while not self._closing:
                try:
                    chunk = await self._read(reader, decoder.in_frame)
                except TimeoutError:
                    reason = (f"no byte for {self._frame_timeout:g} s inside a frame" if decoder.in_frame
                              and self._frame_timeout is not None else f"idle for {self._idle_timeout:g} s")
                    break
                if not chunk:
                    break
                conn.busy = True
                for item in decoder.feed(chunk):
                    answer = await self._safe_answer(item, conn, conn_id)
                    if answer is not None:  # None: an acknowledgment, never answered (ack.is_acknowledgment)
                        writer.write(encode_frame(answer))
                        await writer.drain()
                conn.busy = False
            else:
                reason = "server stopping"
        except asyncio.CancelledError:
            reason = "server stopped"
        except (ConnectionError, OSError) as exc:
            reason = f"network error: {exc!r}"
        finally:
            self._connections.pop(task, None)
            if decoder.pending:
                log.warning("MLLP connection %d: %d bytes of an unfinished frame dropped",
                            conn_id, decoder.pending)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            log.info("MLLP connection %d from %s closed (%s) after %d messages",
                     conn_id, conn.peer, reason, conn.messages)

    async def _safe_answer(self, item: bytes | FrameTooLarge, conn: _Connection, conn_id: int) -> bytes | None:
        """``_answer``, with a last resort: a failure while answering costs an AE, not the connection."""
        try:
            return await self._answer(item, conn, conn_id)
        except Exception as exc:
            log.exception("MLLP connection %d: could not answer a message", conn_id)
            raw = item.head if isinstance(item, FrameTooLarge) else item
            return self._encode(build_ack_for_unreadable(raw, [ack_error(exc)], "AE"), conn_id, "?")

    async def _answer(self, item: bytes | FrameTooLarge, conn: _Connection, conn_id: int) -> bytes | None:
        """Parse, hand over, and build the ACK bytes for one frame; None for an acknowledgment (not answered)."""
        conn.messages += 1
        if isinstance(item, FrameTooLarge):
            await self._quarantine(item.head, conn, str(item))
            ack = build_ack_for_unreadable(item.head, [ack_error(item)], decide(item).code)
            return self._encode(ack, conn_id, "oversized frame")
        try:
            message = await asyncio.to_thread(parse, item) if len(item) > PARSE_IN_THREAD else parse(item)
        except Hl7ParseError as exc:
            log.warning("MLLP connection %d: unreadable message rejected: %s", conn_id, exc.diagnostics)
            await self._quarantine(item, conn, exc.diagnostics)
            return self._encode(build_ack_for_unreadable(item, [ack_error(exc)], decide(exc).code), conn_id, "?")
        try:
            check_header(message)
        except Hl7ParseError as exc:
            await self._quarantine(item, conn, exc.diagnostics)
            refusal = decide(exc)
            return self._encode(build_ack(message, refusal.code, refusal.errors), conn_id, "?")
        inbound = InboundMessage(item, message, conn.peer, conn_id)
        try:
            decision = await asyncio.wait_for(self._handler(inbound), self._handler_timeout)
            if not isinstance(decision, AckDecision):
                raise TypeError(f"the handler returned {decision!r} instead of an AckDecision")
        except TimeoutError:
            log.error("MLLP connection %d: handler timed out on %s", conn_id, message.control_id)
            decision = decide(TimeoutError(f"message not processed within {self._handler_timeout}s"))
        except Exception as exc:  # the outcome table decides AE or AR; the connection goes on
            if isinstance(exc, InvalidInput | Forbidden):  # the sender's message, not our failure: no traceback
                log.warning("MLLP connection %d: %s refused: %s", conn_id, message.control_id, exc.diagnostics)
            else:
                log.exception("MLLP connection %d: handler failed on %s", conn_id, message.control_id)
            decision = decide(exc)
        if is_acknowledgment(message):
            msa = message.segment("MSA")
            log.info("MLLP connection %d: %s is an acknowledgment (%s of %s): handed over, not answered", conn_id,
                     message.control_id, msa.get(1) if msa else "no MSA", msa.get(2) if msa else "?")
            self.unanswered += 1
            return None
        answer = decision.response or build_ack(message, decision.code, decision.errors)
        return self._encode(answer, conn_id, message.control_id)

    async def _quarantine(self, raw: bytes, conn: _Connection, reason: str) -> None:
        if self._on_unreadable is not None:
            await self._on_unreadable(raw, conn.peer, reason)

    def _encode(self, ack: Hl7Message, conn_id: int, control_id: str) -> bytes:
        msa = ack.segment("MSA")
        code = msa.get(1) if msa is not None else "AR"
        self.acks[code] = self.acks.get(code, 0) + 1
        log.info("MLLP connection %d: message %s answered %s", conn_id, control_id, code)
        try:
            codec = codec_for(ack.charset)
        except Hl7ParseError:
            codec = "utf-8"
        return ack.to_er7().encode(codec, errors="replace")


async def start_mllp_server(handler: Handler, host: str = "127.0.0.1", port: int = 2575, *,
                            max_message_size: int = DEFAULT_MAX_SIZE, handler_timeout: float | None = None,
                            stop_grace: float = 10.0, ssl_context: ssl.SSLContext | None = None,
                            on_unreadable: UnreadableHook | None = None, gate: ConnectionGate | None = None,
                            idle_timeout: float | None = None, frame_timeout: float | None = None) -> MllpServer:
    """Start listening and return the server; ``await server.stop()`` (or ``async with``) ends it.

    ``ssl_context`` turns on MLLP over TLS (a server context; require client certificates in it for
    mutual authentication). ``on_unreadable`` receives every message answered AR before it was
    parsed or checked, so that nothing received is lost (a quarantine). ``gate``, ``idle_timeout`` and
    ``frame_timeout`` bound what a peer can hold (None: unbounded, for tests and tools).
    """
    server = MllpServer(handler, max_message_size=max_message_size, handler_timeout=handler_timeout,
                        stop_grace=stop_grace, on_unreadable=on_unreadable, gate=gate,
                        idle_timeout=idle_timeout, frame_timeout=frame_timeout)
    await server.start(host, port, ssl_context)
    return server
