"""Run ``sgl`` commands as an operator types them: this checkout's entry point, as a separate process."""

from __future__ import annotations

import os
import subprocess

from tests.support.access import SGL

__all__ = ["SGL", "run_sgl"]


def run_sgl(*args: str, stdin: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``sgl ARGS`` with the test run's environment; the completed process whatever its exit code."""
    return subprocess.run([SGL, *args], capture_output=True, text=True, timeout=timeout, input=stdin,
                          env=os.environ.copy())
