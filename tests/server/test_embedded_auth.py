"""The embedded database requires authentication (issue 11 item 9): checked from the outside with PyMongo
clients on its port, the files in the data dir, the logs, and ``kill -9`` of the database."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from server.embedded import STATE_FILE
from server.embedded_auth import CREDENTIALS_FILE, read_credentials
from tests.support.access import auth_for
from tests.support.sgl_server import SglProcess, free_port, start_sgl

pytestmark = pytest.mark.db
PATIENT = {"resourceType": "Patient", "name": [{"family": "Authentifie"}]}


def _wait_for(predicate: Callable[[], object], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # not yet: the database is (re)starting
            pass
        time.sleep(0.1)
    return False


def _state(data: Path) -> dict[str, int]:
    return {k: int(v) for k, v in json.loads((data / STATE_FILE).read_text()).items()}


def _make_old_data_dir(data: Path) -> None:
    """A data dir as an older version left it: a database without users, one document, no credentials."""
    data.mkdir(mode=0o700)
    port = free_port()
    db = subprocess.Popen([str(Path(sys.executable).parent / "secantusd-py"), "--host", "127.0.0.1",
                           "--port", str(port), "--storage-path", str(data / "db")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with MongoClient(port=port, serverSelectionTimeoutMS=30_000) as client:
            client["opensgl"]["legacy"].insert_one({"_id": "avant", "note": "written before --auth"})
    finally:
        db.terminate()
        assert db.wait(timeout=30) == 0


def _anonymous_insert(port: int) -> None:
    with MongoClient(port=port, serverSelectionTimeoutMS=5000) as client:
        client["opensgl"]["intrus"].insert_one({"x": 1})


def _post_patient(server: SglProcess) -> bool:
    r = httpx.post(f"{server.base}/Patient", json=PATIENT, auth=auth_for(server.base, server.data_dir, "secretaire"))
    return r.status_code == 201


def test_old_data_dir_is_provisioned_and_the_database_refuses_anonymous_clients_even_after_kill_9(
        tmp_path: Path) -> None:
    data = tmp_path / "var"
    _make_old_data_dir(data)
    assert not (data / CREDENTIALS_FILE).exists()
    server = start_sgl(data)
    try:
        credentials = read_credentials(data)
        assert credentials is not None
        assert stat.S_IMODE((data / CREDENTIALS_FILE).stat().st_mode) == 0o600
        port, pid = _state(data)["port"], _state(data)["pid"]
        assert "--auth" in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        with pytest.raises(OperationFailure) as refused:
            _anonymous_insert(port)
        assert refused.value.code == 13  # Unauthorized
        with MongoClient(port=port, serverSelectionTimeoutMS=5000, **credentials.client_options()) as client:
            assert client["opensgl"]["legacy"].find_one({"_id": "avant"})["note"] == "written before --auth"
        with MongoClient(port=port, serverSelectionTimeoutMS=5000, username=credentials.user,
                         password="not-the-password", authSource="admin") as client, pytest.raises(OperationFailure):
            client["opensgl"]["legacy"].find_one({})
        assert _post_patient(server)

        os.kill(pid, signal.SIGKILL)  # the supervisor restarts it, with --auth, on the same port
        assert _wait_for(lambda: _state(data)["pid"] != pid and _post_patient(server), 60)
        restarted = _state(data)["pid"]
        assert "--auth" in Path(f"/proc/{restarted}/cmdline").read_bytes().decode().split("\0")
        with pytest.raises(OperationFailure):
            _anonymous_insert(port)
    finally:
        assert server.stop() == 0

    again = start_sgl(data)  # a plain restart: same credentials, no second provisioning
    try:
        assert read_credentials(data) == credentials
        assert _post_patient(again)
        with pytest.raises(OperationFailure):
            _anonymous_insert(_state(data)["port"])
    finally:
        again.stop()
    logs = [server.log.read_text(), again.log.read_text(), (data / "secantus.log").read_text(errors="replace")]
    assert "provisioning the embedded SecantusDB" in logs[0] and "provisioning" not in logs[1]
    assert not any(credentials.password in text for text in logs)


def test_a_cli_command_on_a_fresh_data_dir_provisions_it_and_authenticates(tmp_path: Path) -> None:
    data = tmp_path / "var"
    out = subprocess.run([str(Path(sys.executable).parent / "sgl"), "db", "stats", "--data-dir", str(data)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "Patient;0" in out.stdout.splitlines()
    credentials = read_credentials(data)
    assert credentials is not None and credentials.password not in out.stderr + out.stdout
    assert stat.S_IMODE((data / CREDENTIALS_FILE).stat().st_mode) == 0o600
    assert "password=***" in repr(credentials)
