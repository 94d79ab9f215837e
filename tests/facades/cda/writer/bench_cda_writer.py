"""Benchmark of the CR-Bio writer (not a test): ``python -m tests.facades.cda.writer.bench_cda_writer``.

Times one 30-result N3 (with its PDF copy) and its N1, median of N runs after warm-up, then the
whole document pipeline per report (PDF/A render + N3 + N1) in one process and in a pool of worker
processes (one per core), which is how the server should run it.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from facades.cda.writer import write_n1, write_n3
from facades.pdf import render_pdfa
from tests.support.crbio_samples import thirty_results
from tests.support.pdf_samples import sample_view_dict

log = logging.getLogger("bench_cda_writer")


def _median_ms(function: Any, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _pipeline(_: int) -> int:
    pdf = render_pdfa(sample_view_dict())
    data = thirty_results(pdf)
    return len(write_n3(data)) + len(write_n1(pdf, data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--pool-reports", type=int, default=40)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    pdf = render_pdfa(sample_view_dict())
    data = thirty_results(pdf)
    for _ in range(args.warmup):
        write_n3(data), write_n1(pdf, data)
    n3_ms = _median_ms(lambda: write_n3(data), args.runs)
    n1_ms = _median_ms(lambda: write_n1(pdf, data), args.runs)
    pdf_ms = _median_ms(lambda: render_pdfa(sample_view_dict()), max(3, args.runs // 10))
    log.info("30 results, PDF %d bytes: N3 %.1f ms (%d bytes), N1 %.1f ms, PDF/A %.1f ms", len(pdf), n3_ms,
             len(write_n3(data)), n1_ms, pdf_ms)
    log.info("one process: %.2f reports/s (PDF/A + N3 + N1)", 1000 / (n3_ms + n1_ms + pdf_ms))
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_pipeline, range(workers)))
        start = time.perf_counter()
        list(pool.map(_pipeline, range(args.pool_reports)))
        elapsed = time.perf_counter() - start
    log.info("%d worker processes: %.2f reports/s", workers, args.pool_reports / elapsed)


if __name__ == "__main__":
    main()
