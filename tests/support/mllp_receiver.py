"""A hospital EHR for the delivery tests: an MLLP listener on loopback that answers each ORU as told.

Modes: ``ack`` (AA), ``ae`` / ``ar`` (negative ACK with an ERR text), ``drop`` (close without answering),
``wrong-id`` (an AA acknowledging another MSH-10). It keeps every message it received and, like a receiver
honouring HL7 original-mode acknowledgment, tells a repeated MSH-10 apart (``by_control_id``) so a test can
check that each document version reached it once. Optional TLS (``ssl_context``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import Counter
from dataclasses import dataclass, field

from facades.hl7v2.message import Hl7Message
from facades.hl7v2.parser import parse

START, END = b"\x0b", b"\x1c\x0d"


@dataclass
class MllpReceiver:
    mode: str = "ack"
    ssl_context: ssl.SSLContext | None = None
    received: list[Hl7Message] = field(default_factory=list)
    attempts: int = 0
    """Messages that arrived, answered or not."""
    fail_first: int = 0
    """Drop the connection for this many messages before behaving as ``mode``."""
    delay: float = 0.0
    """Seconds between receiving a message (kept) and answering it: a window to kill the sender in."""
    answered: dict[str, float] = field(default_factory=dict)
    """MSH-10 -> loop time its ACK was written (first time)."""
    arrived: dict[str, float] = field(default_factory=dict)
    """MSH-10 -> loop time it first arrived."""
    server: asyncio.Server | None = None
    port: int = 0
    open_writers: set[asyncio.StreamWriter] = field(default_factory=set)
    serving: set[asyncio.Task[None]] = field(default_factory=set)
    """The connection handlers still running (one may be sleeping in ``delay`` when its sender is killed)."""

    async def start(self) -> MllpReceiver:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close every connection and wait until each socket is closed: a socket left to the garbage
        collector after the test's event loop ends is an unclosed-resource warning (an error in this suite)."""
        for task in list(self.serving):  # a handler sleeping in ``delay`` for a sender that was killed
            task.cancel()
        for writer in list(self.open_writers):  # connections still open (a killed sender's, one mid-delay)
            writer.close()
        if self.serving:
            await asyncio.wait(list(self.serving), timeout=5)
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 5)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def by_control_id(self) -> Counter[str]:
        return Counter(m.control_id for m in self.received)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer = b""
        self.open_writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self.serving.add(task)
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                buffer += chunk
                while START in buffer and END in buffer:
                    start, end = buffer.index(START), buffer.index(END)
                    frame, buffer = buffer[start + 1:end], buffer[end + 2:]
                    if not await self._answer(frame, writer):
                        return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self.open_writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.shield(writer.wait_closed())
            if task is not None:
                self.serving.discard(task)

    async def _answer(self, frame: bytes, writer: asyncio.StreamWriter) -> bool:
        self.attempts += 1
        message = parse(frame)
        self.arrived.setdefault(message.control_id, asyncio.get_running_loop().time())
        if self.fail_first > 0:
            self.fail_first -= 1
            return False
        if self.mode == "drop":
            return False
        if self.mode in ("ack", "wrong-id"):
            self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        code = {"ack": "AA", "wrong-id": "AA", "ae": "AE", "ar": "AR"}[self.mode]
        acked = "SOMETHING-ELSE" if self.mode == "wrong-id" else message.control_id
        err = "" if code == "AA" else "\rERR|||207^Application internal error^HL70357|E||||Patient inconnu du DPI"
        ack = (f"MSH|^~\\&|DPI|CHU-X|OPENSGL|LAB|20261204120000||ACK^R01^ACK|A{self.attempts}|P|2.5\r"
               f"MSA|{code}|{acked}{'|Refus' if code != 'AA' else ''}{err}\r")
        writer.write(START + ack.encode("utf-8") + END)
        await writer.drain()
        self.answered.setdefault(message.control_id, asyncio.get_running_loop().time())
        return True
