"""Run a command as an operator would and measure it: wall time and the process's own peak memory (VmHWM,
polled from /proc while it runs; the embedded database it starts is another process, not counted)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def _hwm(pid: int) -> int:
    """The process's peak resident memory so far (kB); 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (the embedded database ``sgl`` starts is one)."""
    out: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in (int(c) for c in children):
        out += [child, *_descendants(child)]
    return out


def run_measured(args: list[str], *, ok: tuple[int, ...] = (0,)) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB, stdout); exits with the command's stderr when its exit code is not in ``ok``."""
    seconds, peak, _, out = run_measured_tree(args, ok=ok)
    return seconds, peak, out


def run_measured_tree(args: list[str], *, ok: tuple[int, ...] = (0,)) -> tuple[float, int, int, str]:
    """As ``run_measured``, plus the largest peak RSS (MB) of a process it started (its embedded database)."""
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    children: dict[int, int] = {}
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as process:
        peak = 0
        while process.poll() is None:
            peak = max(peak, _hwm(process.pid))
            for child in _descendants(process.pid):
                children[child] = max(children.get(child, 0), _hwm(child))
            time.sleep(0.1)
        out, err = process.communicate()
    if process.returncode not in ok:
        raise SystemExit(f"{' '.join(args)} failed: {err[-2000:]}")
    return time.perf_counter() - start, peak // 1024, max(children.values(), default=0) // 1024, out
