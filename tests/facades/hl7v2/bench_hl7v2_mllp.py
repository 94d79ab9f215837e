"""Benchmark (not a test): parser speed on the ANS examples and MLLP round trips on loopback.

Run from the repository root: ``.venv/bin/python -m tests.facades.hl7v2.bench_hl7v2_mllp``.
"""

from __future__ import annotations

import asyncio
import logging
import time

from facades.hl7v2 import AckDecision, InboundMessage, MllpClient, encode_frame, parse, start_mllp_server
from facades.hl7v2.mllp import MllpDecoder
from tests.facades.hl7v2.hl7v2_samples import ADMISSION, ANS_EXAMPLES, adt

log = logging.getLogger("bench")


def bench_parse() -> None:
    big = max(ANS_EXAMPLES, key=lambda p: p.stat().st_size)
    for path, rounds in ((ADMISSION, 2000), (big, 20)):
        data = path.read_bytes()
        start = time.perf_counter()
        for _ in range(rounds):
            parse(data).to_er7()
        elapsed = (time.perf_counter() - start) / rounds
        log.info("parse+serialise %-45s %8d bytes: %8.3f ms/message, %6.1f MB/s",
                 path.name, len(data), elapsed * 1000, len(data) / elapsed / 1e6)


async def bench_pipelined(count: int = 5000) -> None:
    async def accept(inbound: InboundMessage) -> AckDecision:
        return AckDecision.accept()

    async with await start_mllp_server(accept, port=0) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        payload = b"".join(encode_frame(adt(f"P{i}")) for i in range(count))
        decoder, acks = MllpDecoder(), 0
        start = time.perf_counter()
        writer.write(payload)
        while acks < count:
            acks += len(decoder.feed(await reader.read(65536)))
        elapsed = time.perf_counter() - start
        writer.close()
        await writer.wait_closed()
    log.info("pipelined: %d messages acknowledged in %.2f s = %.0f messages/s", count, elapsed, count / elapsed)


async def bench_client(count: int = 2000) -> None:
    async def accept(inbound: InboundMessage) -> AckDecision:
        return AckDecision.accept()

    async with await start_mllp_server(accept, port=0) as server, MllpClient("127.0.0.1", server.port) as client:
        start = time.perf_counter()
        for i in range(count):
            await client.send(adt(f"C{i}"))
        elapsed = time.perf_counter() - start
    log.info("client send/ACK round trips: %d in %.2f s = %.0f messages/s (%.2f ms each)",
             count, elapsed, count / elapsed, elapsed / count * 1000)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("facades").setLevel(logging.WARNING)
    bench_parse()
    asyncio.run(bench_pipelined())
    asyncio.run(bench_client())


if __name__ == "__main__":
    main()
