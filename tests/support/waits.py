"""Bounded waits for what a server writes after it has answered (a log line, a refusal noted), instead of a fixed
pause before reading it: the pause was a guess of that delay, which a loaded CI machine outlasts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

LOG_DEADLINE_S = 60.0
"""How long a test waits for lines to be logged (a bound, not a pause: a passing test waits as long as it takes)."""
READY_POLL_S = 0.05
"""Between two readiness probes of a process a test started (``sgl serve``, a simulator): a refused connection costs
next to nothing, and each start waited half the interval for nothing on average (0.1 s at the old 0.2 s, on
every server and simulator start of the suite)."""


async def _text_with(read: Callable[[], str], where: str, texts: tuple[str, ...], deadline: float,
                     pause: float) -> str:
    """``read()`` once every one of ``texts`` is in it; fails the test after ``deadline`` s."""
    end = time.monotonic() + deadline
    while True:
        text = read()
        missing = [t for t in texts if t not in text]
        if not missing:
            return text
        assert time.monotonic() < end, f"{where}still no {missing} after {deadline} s"
        await asyncio.sleep(pause)


async def log_with(log: Path, *texts: str, deadline: float = LOG_DEADLINE_S) -> str:
    """The text of the log file ``log`` (a server process's) once every one of ``texts`` is in it; fails the test
    after ``deadline`` s."""
    return await _text_with(lambda: log.read_text(encoding="utf-8", errors="replace"), f"{log.name}: ", texts,
                            deadline, 0.1)


async def caplog_with(caplog: pytest.LogCaptureFixture, *texts: str, deadline: float = LOG_DEADLINE_S) -> str:
    """``caplog.text`` (an in-process server's records) once every one of ``texts`` is in it."""
    return await _text_with(lambda: caplog.text, "logged: ", texts, deadline, 0.05)
