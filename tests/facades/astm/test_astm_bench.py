"""The benchmark script runs end to end (its numbers are not asserted: it is not a timed test)."""

from __future__ import annotations

import pytest

from facades.astm.bench import bench_parse, bench_receiver, bench_tcp, sample_run
from facades.astm.records import parse_message


async def test_benchmark_paths_run_and_every_result_is_counted() -> None:
    text = sample_run(5, specimen=42)
    assert len(parse_message(text).results()) == 5
    assert parse_message(text).patients[0].orders[0].specimen_id == "00000000042"
    assert bench_parse(text, 3) > 0
    assert bench_receiver(text, 3) > 0
    messages_per_s, results_per_s = await bench_tcp(instruments=2, messages=3, results=5)
    assert results_per_s == pytest.approx(messages_per_s * 5)
