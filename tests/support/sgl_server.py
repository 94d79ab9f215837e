"""Run ``sgl serve`` as a real process on a free loopback port, as an operator would.

Socket partners: a server accepts HL7/ASTM only from registered partners (issue 11 item 6), so
``start_sgl`` registers the test senders of ``partners.json`` (GAM/CHU-X identity source; BIO1, HEM1, LAS,
CHEM-800, XN-350 and AUTOMATE analyzers; DPI/CHU-X and AGENDA EHRs; all from 127.0.0.0/8) with
``sgl partners import`` once the server answers, as a deployment script would. Pass ``partners=None``
for a server with no partner (every socket message refused), or another JSON file.

Template data dir: what a first start writes before it serves (the embedded database's user, made by a run
without ``--auth`` then a restart; the store's indexes; the seed catalogue, ~1,000 round trips) is the same
for every new data dir and took about a third of each start. So the second ``start_sgl`` on a new data dir of a
test process makes it once with a real ``sgl serve`` (started, stopped cleanly), and that data dir and every
later new one start as a copy of it (the database files and their credentials; not the access-token signing key,
which each server still makes for itself). Tests of the first start itself (provisioning, seed) pass
``from_template=False``; a data dir that already holds something is never touched.

Under pytest-xdist the worker processes of one run share one template (``share_template``, called by the root
conftest with a folder of the run's temporary root): the first worker that needs it builds it under a file lock,
the others wait for it and copy it, even for their first server. pytest removes that folder with the run's
other temporary folders.
"""

from __future__ import annotations

import asyncio
import atexit
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.ports import free_port as free_port  # re-exported: where the tests import them from
from tests.support.ports import free_ports
from tests.support.waits import READY_POLL_S


def server_ports() -> tuple[int, int, int]:
    """Three distinct free ports for one ``sgl serve``: (HTTP, MLLP, ASTM)."""
    http, mllp, astm = free_ports(3)
    return http, mllp, astm


@dataclass
class SglProcess:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path
    mllp_port: int
    astm_port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def stop(self) -> int:
        """SIGTERM, as systemd would; returns the exit code."""
        return interrupt(self.process, grace=60)


def interrupt(process: subprocess.Popen[bytes], *, grace: float = 20.0) -> int:
    """^C a child process (sgl serve, a simulator), kill it if it is still there after ``grace`` s; its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.returncode


TEST_PARTNERS = Path(__file__).with_name("partners.json")


def register_partners(data_dir: Path, partners: Path, env: dict[str, str] | None = None) -> None:
    """``sgl partners import`` on the data dir (works while the server runs; it sees them within a second)."""
    sgl = Path(sys.executable).parent / "sgl"
    done = subprocess.run([str(sgl), "partners", "import", str(partners), "--data-dir", str(data_dir)],
                          env={**os.environ, **(env or {})}, capture_output=True, timeout=120)
    if done.returncode != 0 and b"already registered" not in done.stderr:
        raise RuntimeError(f"sgl partners import failed: {done.stderr.decode()[-2000:]}")


TEMPLATE_KEEPS = ("db", "secantus-credentials.json")
"""What of a freshly started and stopped data dir the copies get: the database and the user it was made with."""
TEMPLATE_READY = "ready"
"""Written in a template's folder once its data dir is complete: a worker that finds it copies, never builds."""
TEMPLATE_FAILED = "failed"
"""Written instead (with the reason) when the build failed: nobody builds it again in this run."""
_template: list[Path | None] = []
_shared_root: list[Path] = []
_new_data_dirs: list[Path] = []
_template_lock = threading.Lock()


def share_template(root: Path) -> None:
    """Use (or build, once, under a file lock) the template in ``root``, a folder every process of the run sees."""
    _shared_root[:] = [root]


def _shared_template_ready() -> bool:
    return bool(_shared_root) and (_shared_root[0] / TEMPLATE_READY).is_file()


def template_data_dir() -> Path | None:
    """The template data dir, made at the first call by a real ``sgl serve`` first start: this process's own,
    or the run's shared one (built by whichever process asks first, the others waiting on its lock). None when
    that build failed: new data dirs then get a real first start. The template is only a shortcut, and a build
    retried at each new data dir cost each of them the whole start deadline (a run under load 20 lost 24 tests
    to that cascade). A first start that fails for a real reason fails the test that asked for it."""
    with _template_lock:
        if not _template:
            root = _shared_root[0] if _shared_root else Path(tempfile.mkdtemp(prefix="sgl-template-"))
            if _shared_root:
                root.mkdir(parents=True, exist_ok=True)
                with open(root / ".lock", "w") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
                    if not (root / TEMPLATE_READY).is_file() and not (root / TEMPLATE_FAILED).is_file():
                        _build_or_record_failure(root)
            else:
                atexit.register(shutil.rmtree, root, ignore_errors=True)
                _build_or_record_failure(root)
            _template.append(root / "var" if (root / TEMPLATE_READY).is_file() else None)
        return _template[0]


def _build_or_record_failure(root: Path) -> None:
    try:
        _build_template(root)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        (root / TEMPLATE_FAILED).write_text(str(exc)[-3000:], encoding="utf-8")
    else:
        (root / TEMPLATE_READY).write_text(str(os.getpid()), encoding="ascii")


def _build_template(root: Path) -> None:
    data_dir = root / "var"
    shutil.rmtree(data_dir, ignore_errors=True)  # what a build that died half-way left
    # the process's own environment without the settings a test may have set for itself (SGL_*)
    plain = {name: value for name, value in os.environ.items() if not name.startswith("SGL_")}
    code = _launch(data_dir, env=None, timeout=START_TIMEOUT_S, ports=None, partners=None, base_env=plain).stop()
    if code != 0:
        raise RuntimeError(f"the template sgl serve stopped with {code}:\n{_logs(root)}")
    for entry in data_dir.iterdir():
        if entry.name not in TEMPLATE_KEEPS:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def _logs(root: Path) -> str:
    return "\n".join(log.read_text()[-3000:] for log in root.glob("sgl-*.log"))


START_TIMEOUT_S = 180.0
"""How long ``start_sgl`` waits for ``/metadata`` (a process that exits is reported at once). A first start needs
~10 s on an idle 2-core machine; with two xdist workers on a machine shared with other jobs (load 20), starts
past 90 s were seen (imports alone took 35 s), so the deadline leaves room for that."""


def start_sgl(data_dir: Path, *, env: dict[str, str] | None = None, timeout: float = START_TIMEOUT_S,
              ports: tuple[int, int, int] | None = None, partners: Path | None = TEST_PARTNERS,
              from_template: bool = True) -> SglProcess:
    """Start ``sgl serve`` with HTTP, MLLP and ASTM each on a free loopback port (or on ``ports``, the
    same (HTTP, MLLP, ASTM) again when a test restarts a server its clients keep talking to), with the
    test partners registered. A new (absent or empty) data dir starts as a copy of the template unless
    ``from_template`` is off."""
    if from_template and not (data_dir.is_dir() and any(data_dir.iterdir())):
        _new_data_dirs.append(data_dir)
        # a run with a single server (one module on the session's) makes no template; a shared one made is used
        if len(_new_data_dirs) > 1 or _shared_template_ready():
            template = template_data_dir()
            if template is not None:
                shutil.copytree(template, data_dir, dirs_exist_ok=True)
    return _launch(data_dir, env=env, timeout=timeout, ports=ports, partners=partners)


async def start_together(data_dir: Path, env: dict[str, str], count: int = 2) -> list[SglProcess]:
    """``count`` ``sgl serve`` started at the same moment on one data dir, as a deployment starting N workers does:
    the one that takes the data dir's lock first starts the embedded database, the others connect to it. Listed
    the database's owner last (stop them in this order). No template copy: two threads copying the test template
    into one data dir raced (the second copy landed over the database the first process had started)."""
    started = await asyncio.gather(*(asyncio.to_thread(start_sgl, data_dir, env=env, partners=None,
                                                       from_template=False) for _ in range(count)),
                                   return_exceptions=True)
    servers = [s for s in started if isinstance(s, SglProcess)]
    if len(servers) < count:
        for server in servers:
            server.stop()
        raise AssertionError(f"not all of {count} servers started: {started}")
    owner = json.loads((data_dir / "secantus.json").read_text())["owner"]
    return sorted(servers, key=lambda s: s.process.pid == owner)


PORT_ATTEMPTS = 3
"""Starts on a fresh set of ports when one of those chosen was taken before ``sgl serve`` bound it."""
ADDRESS_IN_USE = "address already in use"


class _PortTaken(RuntimeError):
    """``sgl serve`` exited because one of its ports was bound by another process meanwhile."""


def _launch(data_dir: Path, *, env: dict[str, str] | None, timeout: float, ports: tuple[int, int, int] | None,
            partners: Path | None, base_env: dict[str, str] | None = None) -> SglProcess:
    """Start ``sgl serve`` and wait for it. Ports chosen here (``ports`` None) are chosen again if one was taken
    in the seconds before the child bound it (a foreign process: see ``tests.support.ports``); ports a test
    gives are its own to keep."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            return _launch_once(data_dir, env=env, timeout=timeout, ports=ports or server_ports(),
                                partners=partners, base_env=base_env)
        except _PortTaken:
            if ports is not None or attempt == PORT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _launch_once(data_dir: Path, *, env: dict[str, str] | None, timeout: float, ports: tuple[int, int, int],
                 partners: Path | None, base_env: dict[str, str] | None) -> SglProcess:
    port, mllp_port, astm_port = ports
    log = data_dir.parent / f"sgl-{port}.log"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    logged = log.stat().st_size if log.exists() else 0
    sgl = Path(sys.executable).parent / "sgl"
    cmd = [str(sgl), "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
           "--mllp-port", str(mllp_port), "--astm-port", str(astm_port)]
    # the document pool warms at start-up only where a test asks (SGL_DOCUMENT_WARMUP=1): 3 s CPU per process
    # every test client comes from 127.0.0.1: the per-address count of failed authentications (server/access/
    # throttle.py) would add up the wrong passwords of unrelated tests; the throttle's own test sets its limit.
    # Tests log in and fetch tokens many at once (32 concurrent logins, parallel role clients): the password
    # hashing queue (server/access/passwords.py) is as long as they need; the pool's own test sets it to 1
    full_env = {"SGL_DOCUMENT_WARMUP": "0", "SGL_AUTH_FAILURES_PER_ADDRESS": "100000",
                "SGL_PASSWORD_HASH_QUEUE": "100000",
                **(os.environ if base_env is None else base_env), **(env or {})}
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            told = log.read_bytes()[logged:].decode(errors="replace")
            failure = _PortTaken if ADDRESS_IN_USE in told else RuntimeError
            raise failure(f"sgl serve exited with {proc.returncode}:\n{told[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/fhir/metadata", timeout=1.0).status_code == 200:
                if partners is not None:
                    register_partners(data_dir, partners, env)
                return SglProcess(proc, port, data_dir, log, mllp_port, astm_port)
        except httpx.HTTPError:
            pass
        time.sleep(READY_POLL_S)
    proc.kill()
    raise RuntimeError(f"sgl serve did not answer within {timeout} s:\n{log.read_text()[-3000:]}")
