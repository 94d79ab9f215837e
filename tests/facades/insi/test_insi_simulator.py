"""The simulator as a server: mutual TLS, SOAP faults for bad requests, HTTP edge cases, the CLI entry."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from facades.insi import start_insi_simulator
from facades.insi.answer import read_answer
from facades.insi.envelope import traits_request
from facades.insi.errors import InsiFault
from facades.insi.model import TraitsQuery
from facades.insi.simulator import SimulatorHandle
from tests.support.insi_kit import CALLER, SOFTWARE
from tests.support.pki import TestPki, client_context

ROOT = Path(__file__).resolve().parents[3]


async def _post(handle: SimulatorHandle, pki: TestPki, body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(verify=client_context(pki), timeout=5.0) as http:
        return await http.post(handle.url, content=body)


async def test_malformed_request_gets_a_soap_fault(simulator: SimulatorHandle, pki: TestPki) -> None:
    response = await _post(simulator, pki, b"<soap:Envelope")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/soap+xml")
    with pytest.raises(InsiFault) as caught:
        read_answer(response.content)
    assert caught.value.error_code == "SIMU_REQUETE_INVALIDE"
    assert "not well-formed" in caught.value.detail


async def test_request_without_contexte_lps_gets_a_soap_fault_naming_it(
    simulator: SimulatorHandle, pki: TestPki
) -> None:
    xml = traits_request(TraitsQuery("ADRUN", ("ZOE",), "F", "1975-12-31"), SOFTWARE, CALLER, _now()).xml
    start, end = xml.index(b"<ctxlps:ContexteLPS"), xml.index(b"</ctxlps:ContexteLPS>") + len(b"</ctxlps:ContexteLPS>")
    response = await _post(simulator, pki, xml[:start] + xml[end:])
    with pytest.raises(InsiFault) as caught:
        read_answer(response.content)
    assert "Envelope/Header/ctxlps:ContexteLPS" in caught.value.detail


async def test_requests_are_answered_on_one_kept_alive_connection(simulator: SimulatorHandle, pki: TestPki) -> None:
    xml = traits_request(TraitsQuery("ADRUN", ("ZOE",), "F", "1975-12-31"), SOFTWARE, CALLER, _now()).xml
    async with httpx.AsyncClient(verify=client_context(pki), timeout=5.0) as http:
        codes = [read_answer((await http.post(simulator.url, content=xml)).content).code for _ in range(5)]
    assert codes == ["00"] * 5
    assert len(simulator.received) == 5


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/lps", 405), ("POST", "/other", 404)],
)
async def test_wrong_method_or_path_is_refused(
    simulator: SimulatorHandle, pki: TestPki, method: str, path: str, status: int
) -> None:
    async with httpx.AsyncClient(verify=client_context(pki), timeout=5.0) as http:
        response = await http.request(method, f"https://127.0.0.1:{simulator.port}{path}", content=b"x")
    assert response.status_code == status
    assert simulator.received == []


async def test_oversized_or_chunked_bodies_are_refused(simulator: SimulatorHandle, pki: TestPki) -> None:
    async with httpx.AsyncClient(verify=client_context(pki), timeout=5.0) as http:
        big = await http.post(simulator.url, content=b"x" * (1024 * 1024 + 1))

        async def chunks() -> AsyncIterator[bytes]:
            yield b"<a/>"

        chunked = await http.post(simulator.url, content=chunks())
    assert (big.status_code, chunked.status_code) == (413, 411)
    assert simulator.received == []


async def test_stop_closes_the_port(pki: TestPki) -> None:
    handle = await start_insi_simulator("127.0.0.1", 0, pki.server.cert, pki.server.key, pki.ca.cert)
    port = handle.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_context(pki))
    await handle.stop()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


def _now() -> datetime:
    return datetime.now(UTC)


def _listening_url(proc: subprocess.Popen[str], lines: queue.Queue[str | None], within: float) -> str:
    """The URL the simulator logs once it is bound (its PKI is written before), waiting for that line
    rather than polling a guessed port; ``within`` only bounds a hang, a loaded machine may need most of it."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            pytest.fail(f"the simulator exited ({proc.wait()}) before listening")
        if match := re.search(r"listening on (https://\S+)", line):
            return match.group(1)
    pytest.fail(f"the simulator did not report listening within {within:.0f} s")


def test_run_simulator_makes_its_pki_and_serves_until_interrupted(tmp_path: Path) -> None:
    code = ("import logging; from pathlib import Path; import facades.insi as i; "
            "logging.basicConfig(level=logging.INFO); "
            f"i.run_simulator(0, Path({str(tmp_path)!r}))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) as proc:
        lines: queue.Queue[str | None] = queue.Queue()

        def drain() -> None:  # every log line, then None at exit; keeps the pipe from filling up
            assert proc.stderr is not None
            for line in proc.stderr:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        try:
            url = _listening_url(proc, lines, within=120)
            context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
            context.load_cert_chain(str(tmp_path / "client.pem"), str(tmp_path / "client-key.pem"))
            query = TraitsQuery("NESSI", ("MICHELANGELO",), "M", "2010-08-07")
            response = httpx.post(url, content=traits_request(query, SOFTWARE, CALLER, _now()).xml, verify=context,
                                  timeout=60)
            assert read_answer(response.content).code == "00"
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=60)
            reader.join(timeout=60)  # the pipe is at EOF once the process is gone; Popen's exit closes it
