"""Benchmark (not a test): reading PAM-FR messages, and the identity feed end to end over MLLP.

Run from the repository root: ``.venv/bin/python -m tests.server.identity_feed.bench_identity_feed``.
The end-to-end part starts its own ``sgl serve`` (test mode, temporary data directory) and sends
pipelined ADT^A28 creations, then A31 updates of the same patients, on one connection.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path

from facades.hl7v2 import MllpDecoder, encode_frame, parse
from facades.hl7v2.pam import apply_change, read_identity_change
from tests.support.pam_samples import ADMISSION, adt, pid, template
from tests.support.sgl_server import start_sgl

log = logging.getLogger("bench")


def bench_read(rounds: int = 5000) -> None:
    text = template(ADMISSION, "B1")
    start = time.perf_counter()
    for _ in range(rounds):
        apply_change(read_identity_change(parse(text)))
    elapsed = (time.perf_counter() - start) / rounds
    log.info("parse + read_identity_change + apply_change (ANS admission): %.3f ms/message", elapsed * 1000)


async def _pipelined(port: int, messages: list[bytes]) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    decoder, acks = MllpDecoder(), []
    start = time.perf_counter()
    writer.write(b"".join(encode_frame(m) for m in messages))
    while len(acks) < len(messages):
        acks += decoder.feed(await asyncio.wait_for(reader.read(65536), 120))
    elapsed = time.perf_counter() - start
    writer.close()
    await writer.wait_closed()
    refused = [a for a in acks if b"MSA|AA|" not in a]
    if refused:
        raise RuntimeError(f"{len(refused)} messages not accepted, first: {refused[0][:300]!r}")
    return elapsed


async def bench_end_to_end(count: int = 500) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_sgl(Path(tmp) / "var", env={"SGL_TEST_MODE": "true"})
        try:
            for event, pid32 in (("A28", "VALI"), ("A31", "PROV")):
                messages = [adt(event, f"{event}-{i}", pid(f"8{i:05d}", pid32=pid32)).encode() for i in range(count)]
                elapsed = await _pipelined(server.mllp_port, messages)
                log.info("ADT^%s end to end (journal, read, write rules, write, ACK): %d in %.2f s = %.0f messages/s",
                         event, count, elapsed, count / elapsed)
        finally:
            server.stop()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    bench_read()
    asyncio.run(bench_end_to_end())


if __name__ == "__main__":
    main()
