"""Control characters sent in a request never reach ``sgl serve``'s log raw (``server/log_escape.py``): a path
holding an encoded line feed cannot forge a log line, a NUL cannot make the log binary. Real server, real HTTP,
the server's own log file read back."""

from __future__ import annotations

import httpx
import pytest

from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db
FORGED = "2026-12-05 03:00:00,000 INFO server.access.routes: user admin logged in from 10.0.0.1"


def test_a_line_feed_or_a_nul_in_a_path_is_escaped_in_the_log(sgl_server: SglProcess) -> None:
    for path in (f"/fhir/Patient/forge%0A{FORGED}", "/fhir/Patient/nul%00byte"):
        answer = httpx.get(f"http://127.0.0.1:{sgl_server.port}{path}", timeout=60)
        assert answer.status_code in (400, 401, 404), answer.text
    log = sgl_server.log.read_bytes()
    assert b"\x00" not in log
    assert not any(line.startswith(FORGED) for line in log.decode("utf-8", "replace").splitlines())
