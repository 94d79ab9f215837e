"""Benchmark of the CR-Bio PDF/A-1b render (not a test): ``python -m tests.facades.pdf.bench_pdf_render``.

Times the 30-result sample report, median of N runs after warm-up, split into its stages, then the
throughput of a pool of worker processes (one per core), which is how the server should run renders.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import weasyprint

from facades.pdf import report
from facades.pdf.pdfa import check_pdfa1b
from facades.pdf.view import ReportView
from tests.support.pdf_samples import sample_view_dict

log = logging.getLogger("bench_pdf_render")


def _stages(view: ReportView) -> dict[str, float]:
    t0 = time.perf_counter()
    html = report.render_html(view)
    t1 = time.perf_counter()
    document = weasyprint.HTML(string=html, base_url=str(report.TEMPLATES)).render(font_config=report._font_config())
    t2 = time.perf_counter()
    pdf = document.write_pdf(pdf_variant="pdf/a-1b")
    t3 = time.perf_counter()
    check_pdfa1b(pdf)
    t4 = time.perf_counter()
    return {"html+datamatrix": t1 - t0, "layout": t2 - t1, "pdf write": t3 - t2, "pdf/a check": t4 - t3}


def _render_one(_: int) -> int:
    return len(report.render_pdfa(sample_view_dict()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--pool-reports", type=int, default=40)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    view = ReportView.from_dict(sample_view_dict())
    for _ in range(args.warmup):
        report.render_pdfa(view)
    totals, cpu, stages = [], [], []
    for _ in range(args.runs):
        t, c = time.perf_counter(), time.process_time()
        size = len(report.render_pdfa(view))
        totals.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        stages.append(_stages(view))
    log.info("render_pdfa, %d results, %d bytes: median %.1f ms wall (min %.1f, max %.1f), %.1f ms CPU, %d runs;"
             " load average %.2f", len(view.results), size, 1000 * statistics.median(totals), 1000 * min(totals),
             1000 * max(totals), 1000 * statistics.median(cpu), args.runs, os.getloadavg()[0])
    for name in stages[0]:
        log.info("  %-16s median %.1f ms", name, 1000 * statistics.median(s[name] for s in stages))
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_render_one, range(workers)))  # warm each worker
        t = time.perf_counter()
        list(pool.map(_render_one, range(args.pool_reports)))
        elapsed = time.perf_counter() - t
    log.info("pool of %d processes: %d reports in %.2f s = %.1f reports/s", workers, args.pool_reports, elapsed,
             args.pool_reports / elapsed)


if __name__ == "__main__":
    main()
