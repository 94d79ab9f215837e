"""E1381 sending side against a scripted receiver on a real local socket: retries, timeouts, contention."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from facades.astm.errors import AstmLinkError, AstmRecordError
from facades.astm.framing import ACK, ENQ, EOT, NAK, Receiver, build_frames
from facades.astm.link import LinkContention, Timeouts, encode_message, pump, transmit

FAST = Timeouts(reply=0.5, frame=0.5, busy_retry=0.02, instrument_contention=0.02, host_contention=0.1)
Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Script], Awaitable[Streams]]]:
    """Factory: run ``script`` as the peer on 127.0.0.1 and return our side of the connection."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def connect(script: Script) -> Streams:
        async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            await script(reader, writer)

        server = await asyncio.start_server(run, "127.0.0.1", 0)
        servers.append(server)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        writers.append(writer)
        return reader, writer

    yield connect
    for writer in writers:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    for server in servers:
        server.close()
        await server.wait_closed()


def _reads(log: list[bytes]) -> Script:
    """A peer that answers ENQ and frames from a list of answers and records what it received."""
    answers = iter(log)

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1):
            if data == EOT:
                received.append(data)
                return
            if data == ENQ or data == b"\n":
                received.append(data)
                answer = next(answers, None)
                if answer:
                    writer.write(answer)
                    await writer.drain()

    received: list[bytes] = []
    script.received = received  # type: ignore[attr-defined]
    return script


async def test_nakked_frame_is_resent_and_then_the_transfer_completes(scripted: Callable) -> None:
    peer = _reads([ACK, NAK, NAK, ACK])
    reader, writer = await scripted(peer)
    await transmit(reader, writer, b"H|\\^&\rL|1\r", timeouts=FAST)
    await asyncio.sleep(0.05)
    assert peer.received == [ENQ, b"\n", b"\n", b"\n", EOT]  # type: ignore[attr-defined]


async def test_frame_nakked_seven_times_gives_up_with_eot(scripted: Callable) -> None:
    peer = _reads([ACK] + [NAK] * 7)
    reader, writer = await scripted(peer)
    with pytest.raises(AstmLinkError, match="refused 7 times"):
        await transmit(reader, writer, b"H|\\^&\rL|1\r", timeouts=FAST)
    await asyncio.sleep(0.05)
    assert peer.received[-1] == EOT  # type: ignore[attr-defined]
    assert peer.received.count(b"\n") == 7  # type: ignore[attr-defined]


async def test_silent_receiver_times_out(scripted: Callable) -> None:
    reader, writer = await scripted(_reads([]))
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(AstmLinkError, match="no answer to ENQ within 0.5 s"):
        await transmit(reader, writer, b"H|\\^&\rL|1\r", timeouts=FAST)
    assert 0.4 < loop.time() - started < 2.0


async def test_busy_receiver_is_asked_again(scripted: Callable) -> None:
    peer = _reads([NAK, NAK, ACK, ACK])
    reader, writer = await scripted(peer)
    await transmit(reader, writer, b"H|\\^&\rL|1\r", timeouts=FAST)
    await asyncio.sleep(0.05)
    assert peer.received == [ENQ, ENQ, ENQ, b"\n", EOT]  # type: ignore[attr-defined]


async def test_receiver_busy_for_good_is_reported(scripted: Callable) -> None:
    reader, writer = await scripted(_reads([NAK] * 10))
    with pytest.raises(AstmLinkError, match="did not accept ENQ after 6 attempts"):
        await transmit(reader, writer, b"H|\\^&\rL|1\r", timeouts=FAST)


async def test_contention_instrument_insists_and_host_yields(scripted: Callable) -> None:
    peer = _reads([ENQ, ACK, ACK])
    reader, writer = await scripted(peer)
    await transmit(reader, writer, b"H|\\^&\rL|1\r", timeouts=FAST, host=False)
    await asyncio.sleep(0.05)
    assert peer.received == [ENQ, ENQ, b"\n", EOT]  # type: ignore[attr-defined]

    host_peer = _reads([ENQ])
    reader, writer = await scripted(host_peer)
    with pytest.raises(LinkContention):
        await transmit(reader, writer, b"H|\\^&\rL|1\r", timeouts=FAST, host=True)
    await asyncio.sleep(0.05)
    assert host_peer.received == [ENQ]  # type: ignore[attr-defined]  # no frame, no EOT


async def test_peer_closing_mid_transfer_is_a_link_error(scripted: Callable) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.close()

    reader, writer = await scripted(hang_up)
    with pytest.raises(AstmLinkError, match="connection closed"):
        await transmit(reader, writer, b"H|\\^&\rL|1\r", timeouts=FAST)


async def test_pump_returns_idle_and_closed(scripted: Callable) -> None:
    async def send_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.2)
        writer.write(ENQ + b"".join(build_frames(b"H|\\^&\rL|1\r")) + EOT)
        await writer.drain()
        assert await reader.readexactly(2) == ACK + ACK
        writer.close()

    async def keep(data: bytes) -> bool:
        got.append(data)
        return True

    got: list[bytes] = []
    reader, writer = await scripted(send_then_close)
    receiver = Receiver()
    assert await pump(reader, writer, receiver, keep, timeouts=FAST, idle_timeout=0.05) == "idle"
    assert await pump(reader, writer, receiver, keep, timeouts=FAST, idle_timeout=1.0) == "ended"
    assert got == [b"H|\\^&\rL|1\r"]
    assert await pump(reader, writer, receiver, keep, timeouts=FAST, idle_timeout=1.0) == "closed"


def test_text_the_line_encoding_cannot_carry_names_the_record() -> None:
    assert encode_message("H|\\^&\rP|1||||DURAND^Hélène\rL|1\r", "latin-1").count(b"\xe9") == 1
    with pytest.raises(AstmRecordError) as caught:
        encode_message("H|\\^&\rP|1||||DURAND^Hélène\rL|1\r", "ascii")
    assert (caught.value.record_type, caught.value.line) == ("P", 2)
