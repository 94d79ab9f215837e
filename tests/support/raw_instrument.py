"""A raw-socket ASTM instrument for tests that must lose ACKs, corrupt frames or split writes."""

from __future__ import annotations

import asyncio

from facades.astm.framing import build_frames


class RawInstrument:
    """Speaks E1381 byte by byte over a real socket, so tests can lose ACKs, corrupt frames, etc."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes, *, chunk: int | None = None) -> None:
        """Write ``data``, optionally in chunks of ``chunk`` bytes with a pause between them."""
        step = chunk or len(data)
        for i in range(0, len(data), step):
            self.writer.write(data[i:i + step])
            await self.writer.drain()
            if chunk:
                await asyncio.sleep(0.001)

    async def answer(self, timeout: float = 5.0) -> bytes:
        """The next byte from the host."""
        async with asyncio.timeout(timeout):
            byte = await self.reader.read(1)
        assert byte, "the host closed the connection"
        return byte

    async def silent(self, seconds: float) -> bool:
        """True if the host sends nothing for ``seconds``."""
        try:
            async with asyncio.timeout(seconds):
                await self.reader.read(1)
        except TimeoutError:
            return True
        return False

    def frames(self, text: str) -> list[bytes]:
        return build_frames(text.encode("latin-1"))
