"""The document pool's processes, ready before the first report: data dir, compiled schematrons, fonts.

A spawned pool process starts empty: compiling the ANS schematrons of both levels costs about 3 s of CPU
and the first WeasyPrint render loads the fonts. Paid by the first report, that made the first documents
of a fresh server come 16 s after the first validation (bench/delivery.py). ``prepare_worker`` is the
pool's initializer, so every process pays it as it starts; ``warm_pool`` starts all the processes at
once (a ``ProcessPoolExecutor`` spawns them one submission at a time) and says in the server log when
they are ready. A missing kit does not stop a process: the job that needs it fails with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from facades.cda import KitError, schematrons_for
from facades.cda.conformance import use_data_dir
from facades.pdf import warm_renderer

log = logging.getLogger(__name__)

_warm_cpu: list[float] = []
"""This process's warm-up CPU seconds, once done (empty before, or when warming is off)."""
PARENT_CHECK_S = 1.0
"""How often a pool process checks that the ``sgl`` that started it is still there."""


def _leave_with(parent: int) -> None:
    """Exit this pool process once ``parent`` is gone. Why: a ``sgl serve`` killed with ``kill -9`` cannot shut
    its pool down, and its processes, idle on the pool's queue, lived on as orphans (about 0.5 GB each, one set
    per crash; found after a full test run, whose crash tests left six). The database has the same guard
    (``server.embedded._die_with``); a polling thread is used here because the pool spawns its processes from
    whichever thread submits, and a parent-death signal is tied to the thread that forked."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def machine_cores() -> int:
    """Cores this process may run on (its CPU affinity, which a container or ``taskset`` narrows), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def prepare_worker(data_dir: Path, warm: bool = True) -> None:
    """Pool initializer: the data dir (where ``sgl kit install`` put the kit) and, with ``warm``, the warm-up.
    Never raises (an initializer that raises breaks the whole pool)."""
    threading.Thread(target=_leave_with, args=(os.getppid(),), name="leave-with-sgl", daemon=True).start()
    use_data_dir(data_dir)
    if not warm or _warm_cpu:
        return
    start = time.process_time()
    try:
        for level in ("N3", "N1"):
            schematrons_for(level)
    except KitError as exc:  # reported at start-up by kit_check; a job that needs the kit fails with it
        log.warning("document worker %d: schematrons not compiled: %s", os.getpid(), exc.diagnostics)
    except Exception:  # noqa: BLE001 - whatever breaks here breaks the first job too, with its reason
        log.exception("document worker %d: schematron warm-up failed", os.getpid())
    try:
        warm_renderer()
    except Exception:  # noqa: BLE001 - same: the first render reports it
        log.exception("document worker %d: renderer warm-up failed", os.getpid())
    _warm_cpu.append(time.process_time() - start)


def worker_state() -> tuple[int, float | None]:
    """(pid, warm-up CPU seconds or None): what ``warm_pool`` asks each process."""
    return os.getpid(), (_warm_cpu[0] if _warm_cpu else None)


async def warm_pool(pool: ProcessPoolExecutor, size: int, *, within: float = 300.0) -> None:
    """Start the ``size`` processes now (``size`` submissions at once spawn ``size`` processes, each running
    ``prepare_worker`` before it takes any work) and log once each has answered, so once all are warm. A process
    that is ready may answer for one still warming: ask again, briefly, until every process has answered."""
    start = time.monotonic()
    loop = asyncio.get_running_loop()
    ready: dict[int, float | None] = {}
    while len(ready) < size and time.monotonic() - start < within:
        try:
            asked = [loop.run_in_executor(pool, worker_state) for _ in range(size)]
        except RuntimeError:  # the pool was shut down meanwhile (the server stopping)
            return
        answers = await asyncio.gather(*asked, return_exceptions=True)
        ready.update(answer for answer in answers if isinstance(answer, tuple))
        if len(ready) < size:
            await asyncio.sleep(0.2)
    cpu = ", ".join(f"{pid}: {'-' if spent is None else f'{spent:.1f} s CPU'}" for pid, spent in sorted(ready.items()))
    log.log(logging.INFO if len(ready) == size else logging.WARNING,
            "document pool ready in %.1f s (%d of %d processes answered; warm-up per process %s)",
            time.monotonic() - start, len(ready), size, cpu)
