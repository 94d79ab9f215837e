"""The MLLP client: send HL7 v2 messages and wait for each acknowledgement.

One ``MllpClient`` keeps its connection open across messages (original mode: one message at a
time, the next one only after the ACK). It reconnects when the peer has closed an idle connection.
Network failures and timeouts raise ``MllpUnavailable`` (an ``Unavailable``: retry later) and drop
the connection, since its state is unknown; an AE/AR answer raises ``NackReceived`` with the ACK.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from types import TracebackType

from facades.hl7v2.errors import FrameTooLarge, Hl7ParseError, MllpUnavailable, NackReceived
from facades.hl7v2.message import Hl7Message
from facades.hl7v2.mllp import DEFAULT_MAX_SIZE, MllpDecoder, encode_frame
from facades.hl7v2.parser import codec_for, parse
from resources.transport import certificate_refused

log = logging.getLogger(__name__)

POSITIVE = ("AA", "CA")


def nack_reason(ack: Hl7Message) -> str:
    """The peer's explanation of a negative ACK: the ERR-8 / ERR-3 texts, else MSA-3."""
    reasons = [err.get("8") or err.get("3.2") or err.get("3.1") for err in ack.segments("ERR")]
    msa = ack.segment("MSA")
    reasons = [r for r in reasons if r] or ([msa.get("3")] if msa is not None and msa.get("3") else [])
    return "; ".join(reasons) or "no reason given"


class MllpClient:
    """A reusable MLLP connection to one peer."""

    def __init__(self, host: str, port: int, *, connect_timeout: float = 10.0, read_timeout: float = 30.0,
                 max_message_size: int = DEFAULT_MAX_SIZE, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.ssl_context = ssl_context
        self.port = port
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._max_message_size = max_message_size
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._decoder = MllpDecoder(max_message_size)
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> MllpClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        self._decoder = MllpDecoder(self._max_message_size)
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def send(self, message: Hl7Message | str | bytes) -> Hl7Message:
        """Send one message and return its ACK; ``NackReceived`` on AE/AR, ``MllpUnavailable`` on failure."""
        parsed = message if isinstance(message, Hl7Message) else parse(message)
        if isinstance(message, bytes):
            payload = message
        else:
            text = message if isinstance(message, str) else message.to_er7()
            payload = text.encode(codec_for(parsed.charset))
        async with self._lock:
            ack = await self._exchange(encode_frame(payload), parsed.control_id)
        status = ack.segment("MSA").get("1")  # type: ignore[union-attr]  # checked by _exchange
        if status not in POSITIVE:
            raise NackReceived(ack, f"{self.host}:{self.port} answered {status or 'no MSA'} to message "
                                    f"{parsed.control_id}: {nack_reason(ack)}")
        return ack

    async def _exchange(self, frame: bytes, control_id: str) -> Hl7Message:
        await self._connect()
        assert self._reader is not None and self._writer is not None
        try:
            self._writer.write(frame)
            await self._writer.drain()
            raw = await asyncio.wait_for(self._read_frame(self._reader), self.read_timeout)
        except TimeoutError:
            await self.close()
            raise MllpUnavailable(f"no ACK from {self.host}:{self.port} within {self.read_timeout}s "
                                  f"for message {control_id}") from None
        except (ConnectionError, OSError) as exc:
            await self.close()
            failed = f"connection to {self.host}:{self.port} failed while sending {control_id}: {exc!r}"
            refused = await self._certificate_refused(exc)
            raise MllpUnavailable(f"{refused} ({failed})" if refused else failed, trust_refused=bool(refused)) from exc
        try:
            ack = parse(raw)
        except Hl7ParseError as exc:
            await self.close()
            raise MllpUnavailable(f"unreadable ACK from {self.host}:{self.port} for message {control_id}: "
                                  f"{exc.diagnostics}") from exc
        msa = ack.segment("MSA")
        if msa is None or msa.get("2") != control_id:
            await self.close()
            got = msa.get("2") if msa is not None else "no MSA"
            raise MllpUnavailable(f"{self.host}:{self.port} acknowledged {got!r} instead of {control_id!r}; "
                                  "connection dropped")
        return ack

    async def _certificate_refused(self, exc: BaseException) -> str:
        """Why an MLLP/TLS peer refuses our client certificate, or ''. Under TLS 1.3 the peer checks it after our
        handshake ended and just closes: the same closure as an ACK never sent. One fresh connection that sends
        nothing tells them apart (at most ~1.5 s more before a dropped ACK's retry)."""
        if self.ssl_context is None or isinstance(exc, ssl.SSLError):  # an SSL alert already says what it is
            return ""
        return await certificate_refused(self.host, self.port, self.ssl_context)

    async def _connect(self) -> None:
        if self.connected and self._reader is not None and not self._reader.at_eof():
            return
        await self.close()
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=self.ssl_context), self.connect_timeout)
        except TimeoutError:
            raise MllpUnavailable(f"cannot connect to {self.host}:{self.port} within "
                                  f"{self.connect_timeout}s") from None
        except OSError as exc:
            raise MllpUnavailable(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        log.info("MLLP client connected to %s:%d", self.host, self.port)

    async def _read_frame(self, reader: asyncio.StreamReader) -> bytes:
        while True:
            chunk = await reader.read(64 * 1024)
            if not chunk:
                raise ConnectionResetError("peer closed the connection before acknowledging")
            items = self._decoder.feed(chunk)
            if not items:
                continue
            if len(items) > 1:
                log.warning("%s:%d sent %d frames for one message; extra frames ignored",
                            self.host, self.port, len(items))
            if isinstance(items[0], FrameTooLarge):
                raise ConnectionError(f"acknowledgement too large: {items[0].diagnostics}")
            return items[0]


async def send(host: str, port: int, message: Hl7Message | str | bytes, *, connect_timeout: float = 10.0,
               read_timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None) -> Hl7Message:
    """Open a connection (TLS with ``ssl_context``), send one message, return its ACK and close."""
    async with MllpClient(host, port, connect_timeout=connect_timeout, read_timeout=read_timeout,
                          ssl_context=ssl_context) as client:
        return await client.send(message)
