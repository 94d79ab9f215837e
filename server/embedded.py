"""The embedded SecantusDB: started on demand for a data directory, shared, never started twice.

The first process that needs the database of a data dir starts ``secantusd-py`` on a free loopback
port and writes ``secantus.json`` (pid, port) beside the data; any later ``sgl`` command finds it
there and connects. A file lock makes the check-and-start atomic between processes. The starter
stops the server when it exits; the others only disconnect.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from resources.errors import Unavailable

log = logging.getLogger(__name__)
STATE_FILE = "secantus.json"
START_TIMEOUT_S = 60.0


@dataclass
class EmbeddedDatabase:
    data_dir: Path
    port: int
    pid: int
    owned: bool
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def stop(self) -> None:
        """Stop the server if this process started it; wait for a clean WiredTiger shutdown."""
        if not self.owned or self.process is None:
            return
        log.info("stopping embedded SecantusDB (pid %s)", self.pid)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log.warning("SecantusDB did not stop within 30 s; killing it")
            self.process.kill()
            self.process.wait(timeout=10)
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / STATE_FILE).unlink()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def _binary() -> str:
    here = Path(sys.executable).parent / "secantusd-py"
    return str(here) if here.exists() else (shutil.which("secantusd-py") or "secantusd-py")


def _running(data_dir: Path) -> EmbeddedDatabase | None:
    state = data_dir / STATE_FILE
    try:
        info = json.loads(state.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if _alive(int(info["pid"])) and _answers(int(info["port"])):
        return EmbeddedDatabase(data_dir, int(info["port"]), int(info["pid"]), owned=False)
    return None


def open_embedded(data_dir: Path) -> EmbeddedDatabase:
    """Connect to the data dir's running SecantusDB, or start one and wait until it answers."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # patient data: readable by the service account only
    with open(data_dir / "secantus.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _running(data_dir)
        if found:
            log.info("using the embedded SecantusDB already running for %s on port %s", data_dir, found.port)
            return found
        port = _free_port()
        log_file = open(data_dir / "secantus.log", "ab")  # noqa: SIM115 - handed to the child process
        cmd = [_binary(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(data_dir / "db"),
               "--log-level", "WARNING"]
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
                                umask=0o077)  # its files 0600, its directories 0700
        log_file.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(port):
            if proc.poll() is not None:
                raise Unavailable(f"SecantusDB exited with code {proc.returncode}; see {data_dir / 'secantus.log'}")
            if time.monotonic() > deadline:
                proc.kill()
                raise Unavailable(f"SecantusDB did not answer on port {port} within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.05)
        (data_dir / STATE_FILE).write_text(json.dumps({"pid": proc.pid, "port": port}))
        log.info("started embedded SecantusDB for %s on 127.0.0.1:%s (pid %s)", data_dir, port, proc.pid)
        return EmbeddedDatabase(data_dir, port, proc.pid, owned=True, process=proc)
