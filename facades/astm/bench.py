"""Benchmark of the ASTM facade: ``python -m facades.astm.bench [--instruments 8] [--messages 200]``.

Measures, on one machine, (1) parsing E1394 text into typed records, (2) the receiver state machine
reassembling framed messages, and (3) the whole path over TCP on 127.0.0.1: several simulated
instruments, each on its own connection, sending result messages to one host whose handler only
counts them. The handler stores nothing, so (3) is the ceiling the facade allows, not the
throughput with MongoDB behind it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from facades.astm.client import AstmClient
from facades.astm.framing import ENQ, EOT, Completed, Receiver, build_frames
from facades.astm.model import Message
from facades.astm.records import parse_message
from facades.astm.server import start_astm_server

log = logging.getLogger("facades.astm.bench")


def sample_run(results: int, specimen: int = 1) -> str:
    """A chemistry message with ``results`` R records, as an analyzer sends it."""
    lines = ["H|\\^&|||c501^1^2.0.0^SN1234|||||||P|LIS2-A2|20261126083015",
             "P|1||PAT0042||MARTIN^Claire||19850312|F",
             f"O|1|{specimen:011d}||^^^PANEL|R||20261126071500||||N||||SER||||||||||F"]
    lines += [f"R|{i}|^^^T{i:03d}|{i}.5|mmol/L|1.0 to 9.0|N||F||BIO1|20261126081000|20261126081500|c501"
              for i in range(1, results + 1)]
    return "\r".join([*lines, "L|1|N"]) + "\r"


def bench_parse(text: str, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        parse_message(text)
    return rounds / (time.perf_counter() - started)


def bench_receiver(text: str, rounds: int) -> float:
    session = ENQ + b"".join(build_frames(text.encode("latin-1"))) + EOT
    receiver = Receiver()
    started = time.perf_counter()
    for _ in range(rounds):
        for event in receiver.feed(session):
            if isinstance(event, Completed):
                receiver.settle(True)
    return rounds / (time.perf_counter() - started)


async def bench_tcp(instruments: int, messages: int, results: int) -> tuple[float, float]:
    """Messages per second and results per second, end to end over TCP."""
    received = 0

    async def count(text: str, message: Message) -> None:
        nonlocal received
        received += len(message.results())

    async def instrument(port: int, index: int) -> None:
        async with await AstmClient.connect("127.0.0.1", port) as client:
            for n in range(messages):
                await client.send(sample_run(results, specimen=index * messages + n))

    async with await start_astm_server(count) as server:
        started = time.perf_counter()
        await asyncio.gather(*(instrument(server.port, i) for i in range(instruments)))
        elapsed = time.perf_counter() - started
    total = instruments * messages
    if received != total * results:
        raise RuntimeError(f"expected {total * results} results, the host counted {received}")
    return total / elapsed, received / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=8)
    parser.add_argument("--messages", type=int, default=200, help="messages per instrument")
    parser.add_argument("--results", type=int, default=20, help="R records per message")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("facades.astm.server").setLevel(logging.WARNING)
    logging.getLogger("facades.astm.link").setLevel(logging.WARNING)
    text = sample_run(args.results)
    frames = len(build_frames(text.encode()))
    log.info("message: %d results, %d bytes, %d frames", args.results, len(text), frames)
    log.info("parse_message: %.0f messages/s", bench_parse(text, 2000))
    log.info("receiver state machine: %.0f messages/s", bench_receiver(text, 2000))
    per_message, per_result = asyncio.run(bench_tcp(args.instruments, args.messages, args.results))
    log.info("TCP 127.0.0.1, %d instruments x %d messages: %.0f messages/s, %.0f results/s",
             args.instruments, args.messages, per_message, per_result)


if __name__ == "__main__":
    main()
