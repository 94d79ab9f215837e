"""The document pool is started and warm at start-up (server/documents/warmup.py): schematrons compiled and
fonts loaded in every process before a first report needs them; a missing kit never breaks the pool."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.documents import warmup
from server.documents.producer import document_pool
from tests.support.sgl_server import start_sgl

READY = re.compile(r"document pool ready in [\d.]+ s \((\d+) of (\d+) processes answered; warm-up per process (.*)\)")


def test_a_started_server_has_its_document_processes_warm_before_any_report(tmp_path: Path) -> None:
    server = start_sgl(tmp_path / "var", env={"SGL_DOCUMENT_WARMUP": "1", "SGL_DOCUMENT_WORKERS": "2"})
    try:
        deadline = time.monotonic() + 90
        found = None
        while found is None and time.monotonic() < deadline:
            found = READY.search(server.log.read_text(encoding="utf-8", errors="replace"))
            if found is None:
                time.sleep(0.5)
        assert found is not None, "no 'document pool ready' line in the server log"
        answered, size, per_process = found.groups()
        assert (answered, size) == ("2", "2")
        spent = [float(s) for s in re.findall(r"([\d.]+) s CPU", per_process)]
        assert spent and all(s > 0.3 for s in spent), per_process  # each compiled the schematron sets itself
    finally:
        assert server.stop() == 0


def test_warm_up_off_starts_no_process_at_start_up(tmp_path: Path) -> None:
    pool = document_pool(tmp_path, 1, warm=False)
    try:
        assert pool.submit(warmup.worker_state).result(timeout=60)[1] is None
    finally:
        pool.shutdown()


def test_a_missing_kit_leaves_the_process_usable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Warming without the ANS kit logs the reason and the process still answers (the job fails later, named)."""
    monkeypatch.setenv("SGL_CDA_KIT_DIR", str(tmp_path / "no-kit"))
    pool = document_pool(tmp_path, 1)
    try:
        pid, spent = pool.submit(warmup.worker_state).result(timeout=90)
        assert pid > 0 and spent is not None
    finally:
        pool.shutdown()


_POOL_OWNER = """
import sys, time
from pathlib import Path
from server.documents import warmup
from server.documents.producer import document_pool
pool = document_pool(Path(sys.argv[1]), 1, warm=False)
print(pool.submit(warmup.worker_state).result(timeout=60)[0], flush=True)
time.sleep(600)
"""


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def test_the_pool_processes_leave_with_a_killed_sgl(tmp_path: Path) -> None:
    """``kill -9`` of the process that owns the pool (what a crash of ``sgl serve`` is): its document processes
    exit too, instead of living on as orphans (they did: six were left by one full test run)."""
    owner = subprocess.Popen([sys.executable, "-c", _POOL_OWNER, str(tmp_path)], stdout=subprocess.PIPE,
                             cwd=Path(__file__).resolve().parents[3])
    worker = 0
    try:
        assert owner.stdout is not None
        worker = int(owner.stdout.readline())
        assert not _gone(worker, within=0.5)
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(timeout=10)
        assert _gone(worker, within=30), "the document process outlived its killed owner"
    finally:
        if owner.poll() is None:
            owner.kill()
        if worker and not _gone(worker, within=0):
            os.kill(worker, signal.SIGKILL)
        if owner.stdout is not None:
            owner.stdout.close()


def test_pool_is_sized_to_the_cores_this_process_may_use() -> None:
    assert 1 <= warmup.machine_cores() <= (os.cpu_count() or 1)
