"""Log rate limiting: a flood from one line of code is cut to a burst plus a summary; other lines pass."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from server.log_limits import RateLimitFilter


@pytest.fixture()
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, RateLimitFilter]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    limit = RateLimitFilter(burst=5, window=60.0)
    handler.addFilter(limit)
    root = logging.getLogger()
    root.addHandler(handler)
    logger = logging.getLogger("tests.flood")
    logger.setLevel(logging.INFO)
    yield logger, stream, limit
    root.removeHandler(handler)


def test_a_flood_from_one_line_is_cut_and_summarised(captured: tuple[logging.Logger, io.StringIO,
                                                                     RateLimitFilter]) -> None:
    logger, stream, limit = captured
    for i in range(10_000):
        logger.warning("garbage from %s number %d", "10.0.0.9", i)
    logger.info("another line")  # a different line of code is not limited by the flood
    lines = stream.getvalue().splitlines()
    assert len(lines) == 6 and lines[-1] == "another line"
    limit._now = lambda: 10**9  # the window is over: the next record brings the summary
    logger.info("later")
    lines = stream.getvalue().splitlines()
    assert "9995 more records from tests.flood" in lines[6]
    assert "garbage from 10.0.0.9 number 5" in lines[6]
    assert lines[7] == "later"
    assert len(stream.getvalue()) < 2000
