"""The embedded default: data survives a restart, and a data dir's database is shared, never doubled."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from resources.errors import Unavailable
from server import embedded
from server.embedded import STATE_FILE
from tests.support.access import auth_for
from tests.support.ports import free_port
from tests.support.sgl_server import start_sgl

pytestmark = pytest.mark.db


def _sgl(*args: str) -> subprocess.CompletedProcess[str]:
    sgl = Path(sys.executable).parent / "sgl"
    return subprocess.run([str(sgl), *args], capture_output=True, text=True, timeout=120, check=False)


def test_data_survives_a_restart_and_the_database_stops_with_the_server(tmp_path: Path) -> None:
    data = tmp_path / "var"
    first = start_sgl(data)
    try:
        r = httpx.post(f"{first.base}/Patient", json={"resourceType": "Patient", "name": [{"family": "Persiste"}]},
                       auth=auth_for(first.base, data, "secretaire"))
        assert r.status_code == 201
        pid = r.json()["id"]
        db_pid = json.loads((data / STATE_FILE).read_text())["pid"]
    finally:
        assert first.stop() == 0
    assert not (data / STATE_FILE).exists()
    assert not Path(f"/proc/{db_pid}").exists()
    second = start_sgl(data)
    try:
        again = httpx.get(f"{second.base}/Patient/{pid}", auth=auth_for(second.base, data, "secretaire"))
        assert again.status_code == 200 and again.json()["name"][0]["family"] == "Persiste"
    finally:
        second.stop()


def test_a_cli_command_shares_the_running_servers_database(tmp_path: Path) -> None:
    data = tmp_path / "var"
    server = start_sgl(data)
    try:
        auth = auth_for(server.base, data, "biologiste")
        httpx.post(f"{server.base}/Binary", json={"resourceType": "Binary", "contentType": "text/plain",
                                                  "data": "Ym9uam91cg=="}, auth=auth)
        state = json.loads((data / STATE_FILE).read_text())
        out = _sgl("db", "stats", "--data-dir", str(data))
        assert out.returncode == 0, out.stderr
        assert "Binary;1" in out.stdout.splitlines()
        assert "already running" in out.stderr
        assert json.loads((data / STATE_FILE).read_text()) == state
        assert httpx.get(f"{server.base}/Binary", auth=auth).json()["total"] == 1
    finally:
        server.stop()


def test_a_cli_command_alone_starts_and_stops_its_own_database(tmp_path: Path) -> None:
    data = tmp_path / "var"
    out = _sgl("db", "stats", "--data-dir", str(data))
    assert out.returncode == 0, out.stderr
    assert "Patient;0" in out.stdout.splitlines()
    assert "started embedded SecantusDB" in out.stderr
    assert not (data / STATE_FILE).exists()


def test_sgl_help_lists_the_commands() -> None:
    out = _sgl("--help")
    assert out.returncode == 0 and "serve" in out.stdout and "db" in out.stdout
    serve = _sgl("serve", "--help")
    assert "--data-dir" in serve.stdout and "--port" in serve.stdout


def test_serve_opens_its_database_before_the_application_and_a_failure_to_open_exits_3(tmp_path: Path) -> None:
    """``sgl serve`` starts the database while its modules load (server/cli.py), no longer in the application's
    start-up: a database that cannot open stops it before uvicorn starts the application, with the reason and the
    exit code a failed start-up had (3). Before, the application started first ("Waiting for application
    startup") and failed there."""
    sgl = Path(sys.executable).parent / "sgl"
    done = subprocess.run([str(sgl), "serve", "--host", "127.0.0.1", "--port", str(free_port()), "--mllp-port", "0",
                           "--astm-port", "0", "--data-dir", str(tmp_path / "var")], capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, "SGL_DB_START_TIMEOUT_S": "soon"})
    assert done.returncode == 3, done.stderr[-3000:]
    assert "the embedded database did not start" in done.stderr and "SGL_DB_START_TIMEOUT_S='soon'" in done.stderr
    assert "Waiting for application startup" not in done.stderr


_SLOW_DATABASE = """
import socket, sys, time
time.sleep(float(sys.argv[2]))  # a large store opening (WiredTiger recovery, the catalogue read)
with socket.create_server(("127.0.0.1", int(sys.argv[1]))) as server:
    while True:
        server.accept()[0].close()
"""


def _slow_database(port: int, opens_after: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", _SLOW_DATABASE, str(port), str(opens_after)])


def test_a_database_slow_to_open_is_waited_for_and_the_wait_is_configurable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """After the 2-million-line directory load the next start did not answer within the old fixed 60 s, and
    was killed while it opened. The wait is now minutes by default, says it is waiting, and is a setting."""
    monkeypatch.setattr(embedded, "START_PROGRESS_S", 0.5)
    port = free_port()  # the kernel's port 0 could be handed to another process before the child binds it
    proc = _slow_database(port, 2.0)
    try:
        with caplog.at_level(logging.INFO, logger="server.embedded"):
            database = embedded.wait_until_ready(proc, tmp_path, port, record=False)
        assert database.port == port and proc.poll() is None
        assert "is still opening after" in caplog.text
    finally:
        proc.kill()
        proc.wait()
    monkeypatch.setenv("SGL_DB_START_TIMEOUT_S", "1")
    port = free_port()
    proc = _slow_database(port, 30.0)
    with pytest.raises(Unavailable, match=r"within 1 s \(SGL_DB_START_TIMEOUT_S\)"):
        embedded.wait_until_ready(proc, tmp_path, port, record=False)
    assert proc.wait(timeout=10) != 0  # killed, not left running
    for wrong in ("soon", "0"):
        monkeypatch.setenv("SGL_DB_START_TIMEOUT_S", wrong)
        with pytest.raises(Unavailable, match="SGL_DB_START_TIMEOUT_S"):
            embedded.start_timeout()


def test_a_port_taken_before_the_database_binds_it_is_never_taken_for_the_database(tmp_path: Path) -> None:
    """The database's port is chosen free, then bound a second or more later by the new process; another program
    asking the kernel for a port meanwhile may get it (two workers of the test suite starting servers at once).
    Before: the other program's listener answered, so it was taken for the database at once (and the real one
    died on "Address already in use"). Now the listener must be the spawned process's."""
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = other.getsockname()[1]
        proc = _slow_database(port, 0.0)
        try:
            with pytest.raises(Unavailable, match="exited"):
                embedded.wait_until_ready(proc, tmp_path, port, record=False)
        finally:
            proc.kill()
            proc.wait(timeout=10)


def test_the_database_starts_on_another_port_when_its_port_was_taken_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The provisioning run and the real start each find their first port taken: each starts again on another."""
    data = tmp_path / "var"
    with socket.create_server(("127.0.0.1", 0)) as other:
        taken = other.getsockname()[1]
        ports = iter([taken, free_port(), taken, free_port()])
        monkeypatch.setattr(embedded, "_free_port", lambda: next(ports))
        with caplog.at_level(logging.WARNING, logger="server.embedded"):
            database = embedded.open_embedded(data)
        try:
            assert database.port != taken and database.running()
            assert json.loads((data / STATE_FILE).read_text())["port"] == database.port
            assert caplog.text.count(f"port {taken} was taken before the embedded SecantusDB") == 2
            assert database.credentials is not None
        finally:
            database.stop()
