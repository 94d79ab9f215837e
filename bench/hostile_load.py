"""Hostile load on a real ``sgl serve``, over loopback: what the limits of issue 9 item 3 cost and hold.

    .venv/bin/python bench/hostile_load.py [--flood 5000] [--frames 20] [--frame-mb 15]

Starts its own server (default settings, except the frame timeout set to 5 s so the run is short) and
measures, in one run against a baseline taken first on the same server:
  1. GET latency with nothing else going on (the baseline);
  2. 50 MB bodies (declared Content-Length, then chunked): time until the 413, and the GET latency
     of other clients meanwhile;
  3. ``--flood`` idle MLLP connections from one address: how many the server holds, how fast the
     rest are refused, GET latency during the flood, log growth;
  4. ``--frames`` connections each holding an unfinished ``--frame-mb`` MB MLLP frame: server memory
     while they are held and once the frame timeout has freed them.
Prints the figures and the ratios to the baseline. Bounded in count and time; stops its server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import select
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.access import auth_for, role_client  # noqa: E402
from tests.support.sgl_server import SglProcess, start_sgl  # noqa: E402
from tests.support.sockets import raise_fd_limit, still_open  # noqa: E402

FIFTY_MB = 50 * 1024 * 1024
FRAME_TIMEOUT = 5.0


def _ms(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"p50 {statistics.median(ms):7.2f} ms  p95 {p95:7.2f} ms  max {ms[-1]:7.2f} ms  (n={len(ms)})"


def _p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


async def _gets(server: SglProcess, stop: asyncio.Event, pause: float = 0.01) -> list[float]:
    """Timed patient searches by an authenticated client (a token per run, reused), as a desk would."""
    out: list[float] = []
    async with role_client(server.base, server.data_dir, "secretaire") as http:
        while not stop.is_set() and len(out) < 2000:
            started = time.perf_counter()
            r = await http.get("Patient", params={"_count": "1"})
            assert r.status_code == 200, r.text
            out.append(time.perf_counter() - started)
            await asyncio.sleep(pause)
    return out


def _oversized(port: int, chunked: bool, token: str) -> float:
    """Send a 50 MB body until the server answers; seconds from the first byte to the 413 status line.
    Authenticated (``token``): an anonymous chunked upload is refused 401 before its body is counted."""
    chunk = b" " * 65536
    start = (f"POST /fhir/Patient HTTP/1.1\r\nHost: b\r\nContent-Type: application/fhir+json\r\n"
             f"Authorization: Bearer {token}\r\n").encode()
    if chunked:
        head = start + b"Transfer-Encoding: chunked\r\n\r\n"
        chunk = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    else:
        head = start + f"Content-Length: {FIFTY_MB}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        started = time.perf_counter()
        sock.sendall(head)
        answer = b""
        for _ in range(FIFTY_MB // 65536):
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable:
                break
            try:
                sock.send(chunk)
            except OSError:
                break
        while b"\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
        elapsed = time.perf_counter() - started
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    return elapsed


def _rss_mb(server: SglProcess) -> float:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


async def _baseline(server: SglProcess) -> list[float]:
    async with role_client(server.base, server.data_dir, "secretaire") as http:  # client and token made before timing
        assert (await http.get("Patient", params={"_count": "1"})).status_code == 200
    stop = asyncio.Event()
    task = asyncio.create_task(_gets(server, stop))
    await asyncio.sleep(3)
    stop.set()
    return await task


async def _child(*args: str) -> str:
    """Run one hostile role in its own process, so that its work does not slow the measuring client."""
    process = await asyncio.create_subprocess_exec(sys.executable, __file__, "--role", *args,
                                                   stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(process.communicate(), 600)
    return out.decode().strip()


async def _bodies(server: SglProcess) -> tuple[list[float], list[float], list[float]]:
    stop = asyncio.Event()
    task = asyncio.create_task(_gets(server, stop))
    token = auth_for(server.base, server.data_dir, "secretaire").token or ""  # made by the GETs running meanwhile
    declared = [float(x) for x in (await _child("declared", str(server.port), token)).split()]
    chunked = [float(x) for x in (await _child("chunked", str(server.port), token)).split()]
    stop.set()
    return declared, chunked, await task


async def _open_flood(port: int, count: int) -> None:
    """Child role: open ``count`` connections, hold them, print how many the server kept and how long it took."""
    raise_fd_limit(count + 500)  # as many as the hard limit allows; the count printed says what was opened
    opened = []
    started = time.perf_counter()
    for _ in range(count):
        with contextlib.suppress(OSError, TimeoutError):
            opened.append(await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5))
    took = time.perf_counter() - started

    kept = sum(await asyncio.gather(*(still_open(r) for r, _ in opened)))
    for _, writer in opened:
        writer.close()
    print(len(opened), kept, f"{took:.2f}")  # noqa: T201


async def _flood(server: SglProcess, count: int) -> float:
    log_before = server.log.stat().st_size
    stop = asyncio.Event()
    task = asyncio.create_task(_gets(server, stop, pause=0.05))
    opened, kept, took = (await _child("flood", str(server.mllp_port), str(count))).split()
    stop.set()
    during = await task
    await asyncio.sleep(2)  # the server sees the held ones go and frees their slots
    print(f"  {count} connections opened in {float(took):.1f} s; held by the server: {kept} "  # noqa: T201
          f"(cap per address); refused at once: {int(opened) - int(kept)}; "
          f"log grew by {(server.log.stat().st_size - log_before) / 1024:.1f} KiB")
    print(f"  GET during the flood:          {_ms(during)}")  # noqa: T201
    return _p50(during)


async def _frames(server: SglProcess, count: int, size_mb: int) -> None:
    before = _rss_mb(server)
    conns = []
    payload = b"A" * (1024 * 1024)
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.mllp_port)
        writer.write(b"\x0bMSH|^~\\&|A|B|C|D|20240101||ORU^R01|X|P|2.5\rOBX|1|ED|X||")
        for _ in range(size_mb):
            writer.write(payload)
            await writer.drain()
        conns.append((reader, writer))
    await asyncio.sleep(1)
    held = _rss_mb(server)
    started = time.perf_counter()
    await asyncio.gather(*(asyncio.wait_for(r.read(), FRAME_TIMEOUT + 30) for r, _ in conns))
    closed_after = time.perf_counter() - started
    await asyncio.sleep(1)
    after = _rss_mb(server)
    for _, writer in conns:
        writer.close()
    print(f"  server RSS: {before:.0f} MB before, {held:.0f} MB holding {count} x {size_mb} MB unfinished frames, "  # noqa: T201
          f"{after:.0f} MB after the frame timeout closed them ({closed_after:.1f} s after the last byte)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flood", type=int, default=5000)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--frame-mb", type=int, default=15)
    parser.add_argument("--role", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        await _role(args.role)
        return
    os.environ.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    with tempfile.TemporaryDirectory() as tmp:
        server = start_sgl(Path(tmp) / "var", env={"SGL_SOCKET_FRAME_TIMEOUT": str(FRAME_TIMEOUT),
                                                   "SGL_MLLP_MAX_FRAME_BYTES": str(32 * 1024 * 1024)})
        try:
            print(f"hostile load on {platform.node()}, {os.cpu_count()} CPUs, load average "  # noqa: T201
                  f"{os.getloadavg()[0]:.2f}")
            base = await _baseline(server)
            print(f"1. GET baseline:                {_ms(base)}")  # noqa: T201
            declared, chunked, during = await _bodies(server)
            print("2. 50 MB bodies")  # noqa: T201
            print(f"  413 (Content-Length declared): {_ms(declared)}")  # noqa: T201
            print(f"  413 (chunked, counted):        {_ms(chunked)}")  # noqa: T201
            print(f"  GET meanwhile:                 {_ms(during)}  ratio p50 {_p50(during) / _p50(base):.2f}")  # noqa: T201
            print(f"3. {args.flood} idle MLLP connections")  # noqa: T201
            flood_p50 = await _flood(server, args.flood)
            print(f"  ratio p50 to baseline {flood_p50 / _p50(base):.2f}")  # noqa: T201
            print(f"4. {args.frames} unfinished MLLP frames of {args.frame_mb} MB (frame timeout {FRAME_TIMEOUT:g} s)")  # noqa: T201
            await _frames(server, args.frames, args.frame_mb)
        finally:
            server.stop()


async def _role(role: list[str]) -> None:
    if role[0] in ("declared", "chunked"):
        print(" ".join(f"{_oversized(int(role[1]), role[0] == 'chunked', role[2]):.6f}" for _ in range(5)))  # noqa: T201
    elif role[0] == "flood":
        await _open_flood(int(role[1]), int(role[2]))


if __name__ == "__main__":
    asyncio.run(main())
