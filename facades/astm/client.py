"""ASTM sender on TCP, playing the instrument: sends messages, and receives the host's answer to a query.

Used by the tests, the benchmark and to simulate an analyzer against a host (ours or another).
As the instrument it has priority in contention: when the host sends ENQ at the same time, it
waits one second and sends ENQ again.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from facades.astm.errors import AstmLinkError
from facades.astm.framing import Receiver
from facades.astm.link import Timeouts, encode_message, pump, transmit


class AstmClient:
    """One connection to an ASTM host; ``async with await AstmClient.connect(...)``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 timeouts: Timeouts, encoding: str) -> None:
        self._reader, self._writer = reader, writer
        self._timeouts, self._encoding = timeouts, encoding
        self._receiver = Receiver(max_errors=timeouts.max_retries + 1)

    @classmethod
    async def connect(cls, host: str, port: int, *, timeouts: Timeouts | None = None,
                      encoding: str = "latin-1") -> AstmClient:
        settings = timeouts or Timeouts()
        try:
            async with asyncio.timeout(settings.reply):
                reader, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as exc:
            raise AstmLinkError(f"cannot connect to the ASTM host {host}:{port}: {exc!r}") from exc
        return cls(reader, writer, timeouts=settings, encoding=encoding)

    async def send(self, text: str) -> None:
        """Send one message (ENQ, frames with NAK retries, EOT); raises ``AstmLinkError`` on failure."""
        await transmit(self._reader, self._writer, encode_message(text, self._encoding),
                       timeouts=self._timeouts)

    async def receive(self, timeout: float) -> str:
        """Wait up to ``timeout`` s for the host to send a message (the order download) and return it."""
        received: list[bytes] = []

        async def keep(data: bytes) -> bool:
            received.append(data)
            return True

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not received:
            outcome = await pump(self._reader, self._writer, self._receiver, keep, timeouts=self._timeouts,
                                 idle_timeout=max(deadline - loop.time(), 0.0))
            if outcome != "ended" and not received:
                raise AstmLinkError(f"no message from the host within {timeout:g} s (connection {outcome})")
        return received[0].decode(self._encoding)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()

    async def __aenter__(self) -> AstmClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


async def send_message(host: str, port: int, text: str, *, expect_reply: bool = False,
                       reply_timeout: float = 30.0, timeouts: Timeouts | None = None,
                       encoding: str = "latin-1") -> str | None:
    """Connect, send one message and close; with ``expect_reply`` (a query), return the host's answer."""
    async with await AstmClient.connect(host, port, timeouts=timeouts, encoding=encoding) as client:
        await client.send(text)
        return await client.receive(reply_timeout) if expect_reply else None
