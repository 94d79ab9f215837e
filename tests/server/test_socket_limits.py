"""Socket limits of a real ``sgl serve`` (issue 9 item 3): connection caps, idle and frame timeouts, over
real loopback sockets. Caps and timeouts are set small through the ``SGL_*`` settings so the test is short."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.sockets import raise_fd_limit, still_open
from tests.support.waits import log_with

pytestmark = pytest.mark.db
PER_ADDRESS = 40
IDLE, FRAME = 4.0, 2.0
FLOOD = 5000
FREED_S = 60.0
"""Bound of the wait for the server to let go of the connections a test closed (a loaded machine is slow to)."""
MSG = (b"MSH|^~\\&|AUTOMATE|LABO|SGL|LABO|20240502101500||QRY^A19|LIMITS-1|P|2.5\r"
       b"QRD|20240502101500|R|I|LIMITS-1|||1^RD|X|DEM\r")


def _start(tmp_path_factory: pytest.TempPathFactory, idle: float) -> SglProcess:
    env = {"SGL_MAX_SOCKET_CONNECTIONS": "100", "SGL_MAX_SOCKET_CONNECTIONS_PER_ADDRESS": str(PER_ADDRESS),
           "SGL_SOCKET_IDLE_TIMEOUT": str(idle), "SGL_SOCKET_FRAME_TIMEOUT": str(FRAME)}
    return start_sgl(tmp_path_factory.mktemp("limits") / "var", env=env)


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    """Idle connections are kept long enough for the whole flood to be sent."""
    server = _start(tmp_path_factory, 300.0)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    server = _start(tmp_path_factory, IDLE)
    yield server
    server.stop()


def _raise_fd_limit(wanted: int) -> None:
    if not raise_fd_limit(wanted):
        allowed = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        pytest.skip(f"needs {wanted} file descriptors, ulimit -n allows {allowed}")


async def _ack(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"\x0b" + MSG + b"\x1c\r")
        await writer.drain()
        return await asyncio.wait_for(reader.readuntil(b"\x1c\r"), 10)
    finally:
        writer.close()


async def _ack_once_freed(port: int) -> bytes:
    """``_ack`` once the server has let go of the connections a test closed (it notices each close when it reads
    it: a new connection meanwhile may still find the address at its cap, and is closed at once)."""
    end = time.monotonic() + FREED_S
    while True:
        try:
            return await _ack(port)
        except (asyncio.IncompleteReadError, ConnectionError):
            assert time.monotonic() < end, f"still refused {FREED_S} s after the flood ended"
            await asyncio.sleep(0.1)


async def test_five_thousand_idle_connections_are_refused_beyond_the_cap_and_http_answers(
        capped: SglProcess) -> None:
    limited = capped
    _raise_fd_limit(FLOOD + 500)
    log_before = limited.log.stat().st_size
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    failed = 0
    started = time.monotonic()
    try:
        for _ in range(FLOOD):
            try:
                opened.append(await asyncio.wait_for(asyncio.open_connection("127.0.0.1", limited.mllp_port), 5))
            except (OSError, TimeoutError):
                failed += 1
        assert time.monotonic() - started < 120
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(f"{limited.base}/metadata")).status_code == 200
        states = await asyncio.gather(*(still_open(r) for r, _ in opened))
        held = sum(states)
        assert held <= PER_ADDRESS  # everything beyond the per-address cap was closed at once
        assert held >= PER_ADDRESS // 2  # and the cap is not zero: the first ones are served
        assert len(opened) - held + failed >= FLOOD - PER_ADDRESS
    finally:
        for _, writer in opened:
            writer.close()
    assert b"MSA|" in await _ack_once_freed(limited.mllp_port)  # once the flood is gone, a new sender is answered
    await log_with(limited.log, "at the cap of")
    grown = limited.log.stat().st_size - log_before
    assert grown < 200_000, f"the log grew by {grown} bytes for a refused flood"


async def test_an_unfinished_frame_is_freed_after_the_frame_timeout(limited: SglProcess) -> None:
    before = _rss_kib(limited)
    writers = []
    for _ in range(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", limited.mllp_port)
        writer.write(b"\x0b" + MSG + b"OBX|1|ED|X||" + b"A" * (4 * 1024 * 1024))  # no end block, ever
        await writer.drain()
        writers.append((reader, writer))
    started = time.monotonic()
    closed = await asyncio.gather(*(asyncio.wait_for(r.read(), FRAME + 10) for r, _ in writers))
    waited = time.monotonic() - started
    assert all(c == b"" for c in closed)  # the server closed each connection
    assert waited < FRAME + 10
    for _, writer in writers:
        writer.close()
    await log_with(limited.log, f"no byte for {FRAME:g} s inside a frame", "bytes of an unfinished frame dropped")
    # 40 MB were held; most of it must be given back. Not all: glibc's allocator keeps part of what it was given
    # (residue 4-22 MB after this round in runs at different loads, session 10; a second and third round of it added
    # 0-28 MB more each, so a round-to-round check is no steadier). A server keeping the buffers is +40 MB.
    assert _rss_kib(limited) < before + 30 * 1024


async def test_an_idle_connection_is_closed_after_the_idle_timeout(limited: SglProcess) -> None:
    for port in (limited.mllp_port, limited.astm_port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), IDLE + 10) == b""
        assert IDLE - 0.5 <= time.monotonic() - started < IDLE + 10
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _rss_kib(server: SglProcess) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
