"""The MLLP server's bounds on real 127.0.0.1 sockets: connection gate, idle and frame timeouts, a large
message parsed off the event loop."""

import asyncio
import logging
import time

import pytest

from facades.hl7v2.mllp import encode_frame
from facades.hl7v2.server import AckDecision, InboundMessage, start_mllp_server
from resources.connections import ConnectionGate
from tests.facades.hl7v2.hl7v2_samples import adt
from tests.support.waits import caplog_with


async def _accept(inbound: InboundMessage) -> AckDecision:
    return AckDecision.accept()


async def _closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), within) == b""
    except ConnectionError:
        return True
    except TimeoutError:
        return False


async def test_connections_beyond_the_per_address_cap_are_closed_at_once_and_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    gate = ConnectionGate("MLLP", max_total=100, max_per_address=3)
    async with await start_mllp_server(_accept, "127.0.0.1", 0, gate=gate) as server:
        with caplog.at_level(logging.INFO):
            kept = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
            extra = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(30)]
            assert all([await _closed_by_server(r, 2) for r, _ in extra])
            assert not any([await _closed_by_server(r, 0.3) for r, _ in kept])
            reader, writer = kept[0]
            writer.write(encode_frame(adt("CAP-1")))
            await writer.drain()
            assert b"MSA|AA|CAP-1" in await asyncio.wait_for(reader.readuntil(b"\x1c\r"), 5)
        assert gate.refused_total == 30
        assert sum("at the cap" in r.getMessage() for r in caplog.records) == 1
        for _, w in kept + extra:
            w.close()


async def test_an_idle_connection_is_closed_after_the_idle_timeout() -> None:
    async with await start_mllp_server(_accept, "127.0.0.1", 0, idle_timeout=0.5, frame_timeout=5) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        started = time.monotonic()
        assert await _closed_by_server(reader, 5)
        assert 0.4 < time.monotonic() - started < 4
        writer.close()


async def test_an_unfinished_frame_is_dropped_after_the_frame_timeout(caplog: pytest.LogCaptureFixture) -> None:
    async with await start_mllp_server(_accept, "127.0.0.1", 0, idle_timeout=60, frame_timeout=0.5) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        with caplog.at_level(logging.WARNING):
            writer.write(b"\x0b" + adt("HALF")[:40] + b"x" * 500_000)
            await writer.drain()
            assert await _closed_by_server(reader, 5)
            await caplog_with(caplog, "bytes of an unfinished frame dropped")  # the server may log after the close
        writer.close()


async def test_a_large_message_is_parsed_in_a_worker_thread_and_acknowledged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real = asyncio.to_thread

    async def spy(func, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(func.__name__)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr("facades.hl7v2.server.asyncio.to_thread", spy)
    big = adt("BIG-1") + b"NTE|1||" + b"x" * 600_000 + b"\r"
    async with await start_mllp_server(_accept, "127.0.0.1", 0) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(encode_frame(adt("SMALL-1")) + encode_frame(big))
        await writer.drain()
        assert b"MSA|AA|SMALL-1" in await asyncio.wait_for(reader.readuntil(b"\x1c\r"), 10)
        assert b"MSA|AA|BIG-1" in await asyncio.wait_for(reader.readuntil(b"\x1c\r"), 10)
        writer.close()
    assert threads == ["parse"]  # the large one only
