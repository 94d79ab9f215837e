"""The embedded SecantusDB: started on demand for a data directory, shared, never started twice.

The first process that needs the database of a data dir starts ``secantusd-py`` on a free loopback
port and writes ``secantus.json`` (database pid and port, and the pid of its owner, the ``sgl``
process that started it) beside the data; any later ``sgl`` command finds it there and connects. A
file lock makes the check-and-start atomic between processes. The owner stops the server when it
exits; the others only disconnect.

Durability: the database runs with ``--sync-on-commit``, so a commit returns only once its log
record is fsynced: what the server acknowledges after a commit survives ``kill -9`` and power loss.

Never orphaned: the child asks Linux to send it SIGTERM (a clean WiredTiger shutdown) when its owner
dies, even by SIGKILL (``PR_SET_PDEATHSIG``). That signal follows the *thread* that forked, so the
database is always started from the caller's own thread (the event loop's, in ``sgl serve``), never
from a worker thread that may end first. A database whose recorded owner is dead anyway (another
system, an older version) is stopped cleanly and started again by the next ``sgl``, which owns it.

Authenticated: the database always runs with ``--auth`` (SCRAM-SHA-256). At the first start of a data
dir (or the first start of one made by an older version) a random user and password are generated,
the database is started once without ``--auth`` on loopback to create that user, stopped, and the
credentials are written to ``secantus-credentials.json`` (created 0600, never readable by others even
briefly). Every client of the embedded database reads them from there (``server/embedded_auth.py``).
"""

from __future__ import annotations

import contextlib
import ctypes
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from resources.errors import Unavailable
from server.embedded_auth import Credentials, provision_if_needed, read_credentials

log = logging.getLogger(__name__)
STATE_FILE = "secantus.json"
LOCK_FILE = "secantus.lock"
START_TIMEOUT_S = 300.0
"""How long ``sgl`` waits for its database to answer (``SGL_DB_START_TIMEOUT_S`` overrides it) before it kills it
and gives up. Why minutes, not seconds: a large store opens slowly (WiredTiger recovery, SecantusDB reading its
catalogue); after the 2-million-line directory load (about 10 GB) the next start did not answer within the old
60 s, and killing a database that is still opening only makes the next start begin again. A database that
exits is seen at once, whatever this bound; while it opens, the log says so every ``START_PROGRESS_S``."""
START_PROGRESS_S = 15.0
STOP_TIMEOUT_S = 30.0
DURABILITY_FLAGS = ("--sync-on-commit",)
"""Every commit fsyncs the WiredTiger log before it returns (checked by the tests on the running process)."""
CACHE_SIZE = "256M"
"""WiredTiger's cache in the database process (``SGL_DB_CACHE_SIZE`` overrides it: ``128M``, ``1G``...). Why not
SecantusDB's 1 GB default: a large write (the first directory load, 2 million lines) fills the whole cache,
the process grew past 3 GB with the allocator's overhead and its write stalls outlasted the driver's 2 s
heartbeat, which then dropped the connection. At 128 MB a 32k-line load levelled off at 300 MB."""
_PR_SET_PDEATHSIG = 1


@dataclass
class EmbeddedDatabase:
    data_dir: Path
    port: int
    pid: int
    owned: bool
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        """The address only, never the credentials (it may be logged): see ``credentials``."""
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def credentials(self) -> Credentials | None:
        """The data dir's user and password (None for a database an older version left running without them)."""
        return read_credentials(self.data_dir)

    def running(self) -> bool:
        """Is the database process still there (our child, or the other ``sgl``'s)?"""
        if self.process is not None:
            return self.process.poll() is None
        return _alive(self.pid)

    def stop(self) -> None:
        """Stop the server if this process started it; wait for a clean WiredTiger shutdown."""
        if not self.owned or self.process is None:
            return
        log.info("stopping embedded SecantusDB (pid %s)", self.pid)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("SecantusDB did not stop within %.0f s; killing it", STOP_TIMEOUT_S)
            self.process.kill()
            self.process.wait(timeout=10)
        with contextlib.suppress(FileNotFoundError):
            info = json.loads((self.data_dir / STATE_FILE).read_text())
            if int(info.get("pid", -1)) == self.pid:
                (self.data_dir / STATE_FILE).unlink()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    """The process exists and has not exited (a zombie waiting for its parent counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


_LOOPBACK_HEX = ("0100007F", "7F000001")
"""127.0.0.1 as ``/proc/net/tcp`` writes it (host byte order: little- or big-endian)."""
_LISTEN = "0A"


def _listens_on(pid: int, port: int) -> bool:
    """The loopback listener on ``port`` is a socket of process ``pid``, not another program's that took the
    port between its choice and the database's bind (Linux: ``/proc/net/tcp`` and the process's descriptors;
    elsewhere assumed)."""
    try:
        table = Path("/proc/net/tcp").read_text()
    except OSError:
        return True
    local = {f"{address}:{port:04X}" for address in _LOOPBACK_HEX}
    sockets = {f"socket:[{fields[9]}]" for fields in (line.split() for line in table.splitlines()[1:])
               if len(fields) > 9 and fields[1] in local and fields[3] == _LISTEN}
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in sockets:
                    return True
    return False


def _binary() -> str:
    here = Path(sys.executable).parent / "secantusd-py"
    return str(here) if here.exists() else (shutil.which("secantusd-py") or "secantusd-py")


def _is_our_database(pid: int, data_dir: Path) -> bool:
    """The pid is a SecantusDB on this data dir (not a recycled pid of something else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return sys.platform != "linux"  # no /proc to check with: trust the state file
    return any(b"secantusd" in part for part in cmdline) and str(data_dir / "db").encode() in cmdline


def _take_over(pid: int, data_dir: Path, owner: int) -> None:
    """Stop cleanly a database whose owner died without stopping it, so that a new owner starts it."""
    log.warning("embedded SecantusDB (pid %s) of %s was left running by sgl process %s, which is gone: "
                "stopping it cleanly and starting it again under this process", pid, data_dir, owner)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        log.warning("the orphaned SecantusDB (pid %s) did not stop within %.0f s: killed", pid, STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def find_running(data_dir: Path) -> EmbeddedDatabase | None:
    """The data dir's database if one is running and owned by a live process (an orphan is taken over)."""
    state = data_dir / STATE_FILE
    try:
        info = json.loads(state.read_text())
    except (FileNotFoundError, ValueError):
        return None
    pid, port, owner = int(info["pid"]), int(info["port"]), info.get("owner")
    if not (_alive(pid) and _is_our_database(pid, data_dir)):
        return None
    if owner is not None and int(owner) != os.getpid() and not _alive(int(owner)):
        _take_over(pid, data_dir, int(owner))
        return None
    if _answers(port):
        return EmbeddedDatabase(data_dir, port, pid, owned=False)
    return None


def _die_with(parent: int) -> Callable[[], None]:
    """``preexec_fn`` of the database: SIGTERM when the forking thread of ``parent`` dies (Linux).

    libc is looked up here, before the fork: the child only makes the call (no loader lock to take)."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None

    def arm() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os.kill(os.getpid(), signal.SIGTERM)
    return arm


def cache_size() -> str:
    value = os.environ.get("SGL_DB_CACHE_SIZE", "").strip()
    return value or CACHE_SIZE


MALLOC_ARENA_MAX = "2"
"""glibc malloc arenas of the database process (``MALLOC_ARENA_MAX`` in ``sgl``'s environment overrides it). The
database serves each connection on a thread of its own; with glibc's default (8 per core) each busy thread
may get an arena of its own whose freed memory is seldom returned: the resident size crept up during long
directory loads after the WiredTiger cache was full (see the Annuaire bench in the README)."""


OPLOG_SETTINGS = (("SGL_DB_OPLOG_MAX_ENTRIES", "--oplog-max-entries"),
                  ("SGL_DB_OPLOG_RETENTION_S", "--oplog-retention-seconds"))
"""Optional SecantusDB oplog bounds from the environment (unset: SecantusDB's defaults, 100,000 entries / 1 h).
Why they are exposed: the database presents itself as a replica set (transactions need one), so every write
is also copied, whole, into its oplog, pruned once full; on a long bulk load (the directory's first load) that
pruning walked ever more deleted entries and stalled the inserts (see the Annuaire bench in the README).
Nothing in OpenSGL reads the oplog (no change streams)."""


def _oplog_flags() -> list[str]:
    return [flag_value for name, flag in OPLOG_SETTINGS if os.environ.get(name, "").strip()
            for flag_value in (flag, os.environ[name].strip())]


def _environment() -> dict[str, str]:
    return {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", MALLOC_ARENA_MAX)}


def spawn(data_dir: Path, port: int, *, auth: bool = True) -> subprocess.Popen[bytes]:
    """Start ``secantusd-py`` on ``port`` (without waiting). Call it from a thread that lives as long as
    the owner (PR_SET_PDEATHSIG is per thread). ``auth=False`` only for the provisioning run."""
    log_file = open(data_dir / "secantus.log", "ab")  # noqa: SIM115 - handed to the child process
    cmd = [_binary(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(data_dir / "db"),
           "--log-level", "WARNING", *DURABILITY_FLAGS, "--cache-size", cache_size(), *_oplog_flags(),
           *(("--auth",) if auth else ())]
    try:
        return subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
                                env=_environment(), preexec_fn=_die_with(os.getpid()),  # noqa: PLW1509 - see _die_with
                                umask=0o077)  # its files 0600, its directories 0700: patient data
    finally:
        log_file.close()


def start_timeout() -> float:
    """``SGL_DB_START_TIMEOUT_S`` (seconds, > 0) or ``START_TIMEOUT_S``."""
    value = os.environ.get("SGL_DB_START_TIMEOUT_S", "").strip()
    try:
        seconds = float(value) if value else START_TIMEOUT_S
    except ValueError:
        raise Unavailable(f"SGL_DB_START_TIMEOUT_S={value!r} is not a number of seconds") from None
    if seconds <= 0:
        raise Unavailable(f"SGL_DB_START_TIMEOUT_S={value!r} must be above 0")
    return seconds


def wait_until_ready(proc: subprocess.Popen[bytes], data_dir: Path, port: int, *,
                     record: bool = True) -> EmbeddedDatabase:
    """Wait until the spawned database answers, record it as ours (unless ``record`` is off), or raise
    ``Unavailable``."""
    bound = start_timeout()
    started = time.monotonic()
    told = started
    while not (_answers(port) and _listens_on(proc.pid, port)):
        if proc.poll() is not None:
            raise Unavailable(f"SecantusDB exited with code {proc.returncode}; see {data_dir / 'secantus.log'}")
        now = time.monotonic()
        if now - started > bound:
            proc.kill()
            raise Unavailable(f"SecantusDB did not answer on port {port} within {bound:.0f} s "
                              f"(SGL_DB_START_TIMEOUT_S); see {data_dir / 'secantus.log'}")
        if now - told >= START_PROGRESS_S:
            told = now
            log.info("embedded SecantusDB for %s is still opening after %.0f s (a large store takes minutes; "
                     "waiting up to %.0f s)", data_dir, now - started, bound)
        time.sleep(0.05)
    if record:
        (data_dir / STATE_FILE).write_text(json.dumps({"pid": proc.pid, "port": port, "owner": os.getpid()}))
    return EmbeddedDatabase(data_dir, port, proc.pid, owned=True, process=proc)


PORT_ATTEMPTS = 3
"""Starts on a new port when the chosen one was taken before the database bound it."""
_ADDRESS_IN_USE = "Address already in use"


def _start_on_a_free_port(data_dir: Path, *, auth: bool = True, record: bool = True) -> EmbeddedDatabase:
    """Spawn the database on a free port and wait for it. A port is free when chosen, but the database binds it
    a second or more later, and meanwhile the kernel may give it to another program asking for any port (two
    servers starting at once: it happened between the two workers of the test suite). The database then exits
    with "Address already in use" (and the other program's listener is never taken for it: ``_listens_on``):
    it is started again on another port."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = _free_port()
        log_file = data_dir / "secantus.log"
        logged = log_file.stat().st_size if log_file.exists() else 0
        proc = spawn(data_dir, port, auth=auth)
        try:
            return wait_until_ready(proc, data_dir, port, record=record)
        except Unavailable:
            with open(log_file, "rb") as told:
                told.seek(logged)
                taken = _ADDRESS_IN_USE.encode() in told.read()
            if not taken or attempt == PORT_ATTEMPTS:
                raise
            log.warning("port %s was taken before the embedded SecantusDB of %s bound it: trying another port",
                        port, data_dir)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _provisioning_run(data_dir: Path) -> Iterator[int]:
    """The database started once without ``--auth`` (loopback, a fresh port) to create the user; its port."""
    database = _start_on_a_free_port(data_dir, auth=False, record=False)
    proc = database.process
    assert proc is not None
    try:
        yield database.port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Exclusive between processes: one "find or start" at a time per data dir."""
    with open(data_dir / LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def open_embedded(data_dir: Path) -> EmbeddedDatabase:
    """Connect to the data dir's running SecantusDB, or start one and wait until it answers.

    Runs in the caller's thread on purpose (see the module docstring)."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # readable by the service account only
    with data_dir_lock(data_dir):
        found = find_running(data_dir)
        if found:
            log.info("using the embedded SecantusDB already running for %s on port %s", data_dir, found.port)
            return found
        provision_if_needed(data_dir, _provisioning_run)
        database = _start_on_a_free_port(data_dir)
        log.info("started embedded SecantusDB for %s on 127.0.0.1:%s (pid %s, synchronous commit)",
                 data_dir, database.port, database.pid)
        return database
