"""Control characters from outside never reach a log line raw: a logging filter on every handler escapes them
(``\\x0a``, ``\\x00``...) in the arguments of each record, where request paths, search values and partners'
texts arrive (``log.info("%s %s -> %s: %s", method, path, ...)``).

Found by probing a real ``sgl serve``: ``GET /fhir/Patient/x%0A2026-12-05 00:00:00,000 INFO ...`` was logged
by the error handler with the decoded path, so the LF started a second line that looked like one of the
server's own (a forged record), and ``%00`` wrote NUL bytes into the log file (``grep`` then calls it binary).
The message's own text (the format string, written here) may hold line breaks; tracebacks are not touched.
Installed before the INS filter (``server/access/logmask.py``), which formats the message when it masks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def escape_controls(text: str) -> str:
    """``text`` with each control character but TAB written ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _escaped(value: Any) -> Any:
    if isinstance(value, (int, float)) or value is None:
        return value
    text = value if isinstance(value, str) else str(value)
    return escape_controls(text) if _CONTROL.search(text) else value


class ControlCharacterFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            record.args = {k: _escaped(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_escaped(v) for v in record.args)
        return True


def install_control_character_filter() -> None:
    """On every handler of the root logger, ahead of the filters already there."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ControlCharacterFilter) for f in handler.filters):
            handler.filters.insert(0, ControlCharacterFilter())
