"""E1381 over an asyncio stream: the sending side (ENQ, frames, retries, EOT) and the receiving pump.

Shared by the server (results in, order download out) and the client (an instrument simulator).
The framing and the receiver state machine live in ``framing``; this module only adds sockets,
timers and the E1381 timeouts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from facades.astm.errors import AstmLinkError, AstmRecordError
from facades.astm.framing import ACK, ENQ, EOT, NAK, Completed, Ended, Receiver, Reply, Unterminated, build_frames

log = logging.getLogger(__name__)

PumpOutcome = Literal["ended", "closed", "idle"]
OnMessage = Callable[[bytes], Awaitable[bool]]


@dataclass(frozen=True)
class Timeouts:
    """E1381 timers in seconds (the standard's values by default; tests shorten them)."""

    reply: float = 15.0                  # sender: wait for the answer to ENQ or to a frame
    frame: float = 30.0                  # receiver: wait for the next frame or EOT
    busy_retry: float = 10.0             # sender: ENQ answered NAK (receiver busy), wait before retrying
    instrument_contention: float = 1.0   # instrument: both sides sent ENQ, wait before ENQ again
    host_contention: float = 20.0        # host: both sides sent ENQ, yield and wait before ENQ again
    max_retries: int = 6                 # retransmissions of a NAKed frame, and ENQ attempts
    trailer_grace: float = 0.3           # receiver: wait for the LF after a frame's C1 C2 CR, then NAK


class LinkContention(Exception):
    """Both sides sent ENQ and we are the host: yield the line to the instrument (E1381 contention)."""


def encode_message(text: str, encoding: str) -> bytes:
    """The message bytes; a character the line's encoding cannot carry is a record error."""
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        line = text[:exc.start].count("\r") + 1
        start = text.rfind("\r", 0, exc.start) + 1
        raise AstmRecordError(f"character {text[exc.start]!r} cannot be sent in {encoding}",
                              record_type=text[start:start + 1] or "?", line=line) from exc


async def _answer(reader: asyncio.StreamReader, timeout: float, waiting_for: str) -> bytes:
    """The next ACK, NAK, ENQ or EOT from the peer; anything else on the line is noise."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    byte = await reader.read(1)
                except ConnectionError:
                    byte = b""
                if not byte:
                    raise AstmLinkError(f"connection closed by the peer while waiting for the answer to "
                                        f"{waiting_for}")
                if byte in (ACK, NAK, ENQ, EOT):
                    return byte
    except TimeoutError as exc:
        raise AstmLinkError(f"no answer to {waiting_for} within {timeout:g} s") from exc


async def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    try:
        writer.write(data)
        await writer.drain()
    except ConnectionError as exc:
        raise AstmLinkError(f"connection lost: {exc!r}") from exc


async def _establish(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeouts: Timeouts,
                     *, host: bool) -> None:
    for attempt in range(1, timeouts.max_retries + 1):
        await _write(writer, ENQ)
        answer = await _answer(reader, timeouts.reply, "ENQ")
        if answer == ACK:
            return
        if answer == ENQ:
            if host:
                log.info("ASTM contention: the instrument wants the line, the host yields")
                raise LinkContention()
            log.info("ASTM contention: the instrument has priority, ENQ again (attempt %d)", attempt)
            await asyncio.sleep(timeouts.instrument_contention)
        else:
            log.info("ASTM ENQ answered %r (receiver busy), retrying in %g s", answer, timeouts.busy_retry)
            await asyncio.sleep(timeouts.busy_retry)
    raise AstmLinkError(f"the receiver did not accept ENQ after {timeouts.max_retries} attempts")


async def transmit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, message: bytes,
                   *, timeouts: Timeouts, host: bool = False) -> None:
    """Send one message: ENQ, frames (each NAKed frame resent up to ``max_retries`` times), EOT.

    Raises ``LinkContention`` (host only, nothing sent yet) or ``AstmLinkError``, after EOT.
    """
    frames = build_frames(message)
    await _establish(reader, writer, timeouts, host=host)
    try:
        for number, frame in enumerate(frames, start=1):
            for attempt in range(timeouts.max_retries + 1):
                await _write(writer, frame)
                answer = await _answer(reader, timeouts.reply, f"frame {number}/{len(frames)}")
                if answer != NAK:  # ACK, or EOT: the receiver's interrupt request, which E1381 lets us ignore
                    break
                log.info("ASTM frame %d NAKed (%d/%d)", number, attempt + 1, timeouts.max_retries)
            else:
                raise AstmLinkError(f"frame {number}/{len(frames)} refused {timeouts.max_retries + 1} times")
    finally:
        try:
            await _write(writer, EOT)
        except AstmLinkError:
            log.info("ASTM connection lost before EOT")
    log.info("ASTM sent a message of %d bytes in %d frames", len(message), len(frames))


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, receiver: Receiver,
               on_message: OnMessage, *, timeouts: Timeouts, idle_timeout: float | None) -> PumpOutcome:
    """Feed the receiver until a transfer ends (``ended``), the peer closes (``closed``) or, out of any
    transfer, nothing came for ``idle_timeout`` seconds (``idle``).

    ``on_message`` must store a completed message and say whether it did: its last frame is ACKed
    only then, NAKed otherwise. A message left without its L record after an ETX frame (``Unterminated``:
    its frames were ACKed) is handed to ``on_message`` too, with nothing to answer.
    """
    while True:
        limit = timeouts.frame if receiver.receiving else idle_timeout
        if receiver.awaiting_lf:
            limit = timeouts.trailer_grace
        data: bytes | None
        try:
            async with asyncio.timeout(limit):
                data = await reader.read(65536)
        except ConnectionError:
            data = b""
        except TimeoutError:
            if not receiver.receiving:
                return "idle"
            data = None
        if data == b"":  # the line closed
            await _handle(receiver.expire(), writer, receiver, on_message)
            return "closed"
        events = receiver.feed(data) if data else (receiver.trailer_timeout() or receiver.expire())
        outcome = await _handle(events, writer, receiver, on_message)
        if outcome == "closed" or (outcome == "ended" and not receiver.receiving):
            return outcome


async def _handle(events: list[Reply | Completed | Unterminated | Ended], writer: asyncio.StreamWriter,
                  receiver: Receiver, on_message: OnMessage) -> PumpOutcome | None:
    """Answer and store what the receiver produced: ``ended`` once it saw EOT, ``closed`` if a reply could
    not be written."""
    ended = False
    while events:
        event = events.pop(0)
        if isinstance(event, Reply):
            try:
                await _write(writer, event.data)
            except AstmLinkError:
                return "closed"
        elif isinstance(event, Completed):
            events = receiver.settle(await on_message(event.text)) + events
        elif isinstance(event, Unterminated):
            await on_message(event.text)  # its frames were ACKed already: nothing to answer
        elif isinstance(event, Ended):
            ended = True
    return "ended" if ended else None
