"""Benchmark of the CR-Bio seal (not a test): ``python -m tests.facades.pdf.bench_pdf_seal``.

CPU of sealing the 30-result sample report (PAdES B-B, visible box) against its PDF/A-1b render in the same
run: the ratio says what SGL.DOC.19 adds to the document step (which also makes and checks the N3 and N1).
Median of N runs after warm-up (the first seal of a process cuts and rescales the font, loads the key).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from facades.insi.dev_pki import create_ca
from facades.pdf import render_pdfa
from facades.pdf.seal import load_seal, seal_pdf
from facades.pdf.seal_config import SealConfig
from facades.pdf.view import ReportView
from tests.support.pdf_samples import sample_view_dict
from tests.support.seal_pki import issue_seal_certificate


def _cpu_ms(work: Callable[[], object], runs: int) -> float:
    spent = []
    for _ in range(runs):
        start = time.process_time()
        work()
        spent.append((time.process_time() - start) * 1000)
    return statistics.median(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ca = create_ca(Path(folder))
        files = issue_seal_certificate(ca, Path(folder))
        start = time.process_time()
        seal = load_seal(SealConfig(files.cert, files.key, ca.cert))
        load_ms = (time.process_time() - start) * 1000
    view = ReportView.from_dict(sample_view_dict())
    pdf = render_pdfa(view)
    for _ in range(args.warmup):
        seal_pdf(render_pdfa(view), seal, view.laboratory.name)
    render_ms = _cpu_ms(lambda: render_pdfa(view), args.runs)
    seal_ms = _cpu_ms(lambda: seal_pdf(pdf, seal, view.laboratory.name), args.runs)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("bench_pdf_seal").info(
        "render PDF/A-1b %.0f ms CPU; seal %.0f ms CPU (x%.2f of the render); certificate check once per "
        "process %.0f ms CPU", render_ms, seal_ms, seal_ms / render_ms, load_ms)


if __name__ == "__main__":
    main()
