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

from facades.cda.writer import CrBioInput, write_n1, write_n3
from facades.pdf import render_pdfa
from tests.facades.pdf.pdf_samples import sample_view_dict

from . import crbio_samples as s

log = logging.getLogger("bench_cda_writer")
CHAPTERS = ("18719-5", "18723-7", "18718-7")


def thirty_results(pdf: bytes) -> CrBioInput:
    """30 results over 3 chapters: 24 single results and a 6-member battery, notes on some."""
    observations: list[dict[str, Any]] = []
    for index in range(24):
        obs = s.quantity_obs(f"r{index}", "2345-7", f"Analyte {index}", 5.0 + index / 10, "mmol/L", 4.1, 5.9,
                             "H" if index % 5 == 0 else "N", CHAPTERS[index % 3])
        if index % 7 == 0:
            obs["note"] = [{"text": f"Commentaire {index}"}]
        observations.append(obs)
    observations.extend(s.haematology())
    observations.extend(s.quantity_obs(f"m{i}", "789-8", f"Membre {i}", 4.5, "10*12/L", 4.0, 5.4,
                                       chapter="18723-7", specimen={"reference": "Specimen/sp2"}) for i in range(3))
    observations[24]["hasMember"].extend({"reference": f"Observation/m{i}"} for i in range(3))
    results = [f"r{i}" for i in range(24)] + ["nfs"]
    return s.crbio_input(observations, results, specimens=[s.specimen(), s.specimen("sp2", "BLD", "Sang")],
                         pdf=pdf)


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
