"""Benchmark of the CR-Bio document generation (server/documents) for a 30-result report.

    .venv/bin/python bench/documents.py [--runs 20] [--pool-reports 40] [--rounds 1]

One gathered dossier (30 results over 3 chapters, a 6-member battery, a qualified INS so the
Datamatrix is drawn), composed and generated exactly as the server does it:
  1. a bare WeasyPrint render of the same HTML (no PDF/A variant, no checks): the baseline;
  2. complete CR-Bio without the validator: PDF/A-1b (with its checks) + N3 self-presenting + N1;
  3. complete CR-Bio with both CDA validations (XSD + ANS schematrons, N3 and N1);
  3b. (3) with the lab's ``versions`` setting at ``patient-professional`` (SGL.DOC.02: the professional
     version and the patient one, N3 + PDF): its CPU as a ratio to (3), the single version;
  4. (3) in the server's own pool (``document_pool``: spawned, warmed as it starts) of ``--workers`` processes
     (default: the cores this process may use), beside (1) in the same pool: reports/s and CPU per report of
     each and their ratios (the target: complete CR-Bio at least 5/s, at most 1.3x the bare render's time);
     with ``--rounds N`` the two alternate N times and the medians (and each round's ratios) are printed.
Prints medians, CPU ms per report (what it costs whatever the load of a shared machine), reports/s,
the ratio to the baseline and the machine load. Store writes are not
included (they are measured by the tests' server and bench/fhir_store.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import weasyprint

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facades.pdf import render_html  # noqa: E402
from server.documents.compose import Version, report_view  # noqa: E402
from server.documents.gather import Dossier  # noqa: E402
from server.documents.generate import generate, generate_versions  # noqa: E402
from server.documents.producer import document_pool  # noqa: E402
from server.documents.profile import load_profile  # noqa: E402
from server.documents.warmup import machine_cores  # noqa: E402
from tests.support import crbio_samples as s  # noqa: E402
from tests.support.crbio_samples import thirty_results  # noqa: E402

log = logging.getLogger("bench.documents")


def dossier() -> Dossier:
    """The writer benchmark's 30-result report as a gathered dossier (no store needed)."""
    data = thirty_results(s.TINY_PDF)
    report = {**data.report, "result": [{"reference": f"Observation/{i}"} for i in [f"r{n}" for n in range(24)]]
              + [{"reference": "Observation/nfs"}]}
    return Dossier(report=report, patient=data.patient, requests=[data.service_request or {}],
                   observations=data.observations, specimens=data.specimens, requester=data.requester,
                   recipients=data.recipients, biologist=data.biologist, profile=load_profile(),
                   organizations=data.organizations)


def _median_ms(function: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median wall-clock ms and mean CPU ms (this process, user+system) of ``runs`` calls."""
    samples = []
    cpu = time.process_time()
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), (time.process_time() - cpu) * 1000 / runs


def _complete(_: int) -> float:
    """One complete CR-Bio in a pool process; the CPU seconds it cost that process (all its threads)."""
    cpu = time.process_time()
    docs = generate(dossier(), Version(1))
    assert docs.pdf and docs.n3 and docs.n1
    return time.process_time() - cpu


def _bare(_: int) -> float:
    cpu = time.process_time()
    assert weasyprint.HTML(string=render_html(report_view(dossier(), Version(1)))).write_pdf()
    return time.process_time() - cpu


def _pooled(pool: ProcessPoolExecutor, work: Callable[[int], float], workers: int, reports: int
            ) -> tuple[float, float]:
    """Reports/s through the pool and the mean CPU ms per report in the pool's processes."""
    list(pool.map(work, range(workers)))  # every process started (each warms itself as it starts)
    start = time.perf_counter()
    spent = list(pool.map(work, range(reports)))
    return reports / (time.perf_counter() - start), sum(spent) * 1000 / reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pool-reports", type=int, default=40)
    parser.add_argument("--workers", type=int, default=machine_cores())
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the pool's bare and complete measurements this many times (loaded machine)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    start_load = os.getloadavg()
    folder = dossier()
    results = len([o for o in folder.observations if "hasMember" not in o])
    html = render_html(report_view(folder, Version(1)))
    generate(folder, Version(1))  # warm-up: fonts, stylesheet, compiled schematrons
    bare, bare_cpu = _median_ms(lambda: weasyprint.HTML(string=html).write_pdf(), args.runs)
    without, without_cpu = _median_ms(lambda: generate(folder, Version(1), check=False), args.runs)
    checked, checked_cpu = _median_ms(lambda: generate(folder, Version(1)), args.runs)
    two = dataclasses.replace(folder, profile=dataclasses.replace(folder.profile, versions="patient-professional"))
    both, both_cpu = _median_ms(lambda: generate_versions(two, Version(1)), max(3, args.runs // 2))
    # the server's own pool (server/documents/producer.py): spawned (saxonche's VM does not survive a fork),
    # each process compiling the schematrons and loading the fonts as it starts (warmup.py)
    # on a loaded machine the load drifts between the two measurements: with --rounds, they alternate and the
    # ratios are taken round by round (each round: bare renders, then complete reports)
    rounds: list[tuple[tuple[float, float], tuple[float, float]]] = []
    with document_pool(Path(tempfile.mkdtemp(prefix="sgl-bench-docs-")), args.workers) as pool:
        for _ in range(args.rounds):
            rounds.append((_pooled(pool, _bare, args.workers, args.pool_reports),
                           _pooled(pool, _complete, args.workers, args.pool_reports)))
    pooled_bare = (statistics.median(b[0] for b, _ in rounds), statistics.median(b[1] for b, _ in rounds))
    pooled = (statistics.median(c[0] for _, c in rounds), statistics.median(c[1] for _, c in rounds))
    load = os.getloadavg()
    log.info("%d results, %d cores, load average %.1f %.1f %.1f (at the start: %.1f %.1f %.1f)", results,
             machine_cores(), *load, *start_load)
    log.info("bare WeasyPrint render of the same HTML: %.0f ms, CPU %.0f ms (%.2f/s)", bare, bare_cpu, 1000 / bare)
    log.info("complete CR-Bio without validator: %.0f ms, CPU %.0f ms (%.2f reports/s, %.2fx the bare render's CPU)",
             without, without_cpu, 1000 / without, without_cpu / bare_cpu)
    log.info("complete CR-Bio with N3 + N1 validation: %.0f ms, CPU %.0f ms (%.2f reports/s, %.2fx the bare "
             "render's CPU)", checked, checked_cpu, 1000 / checked, checked_cpu / bare_cpu)
    log.info("two versions, patient and professional (SGL.DOC.02), validated: %.0f ms, CPU %.0f ms (%.2fx the single "
             "version's CPU)", both, both_cpu, both_cpu / checked_cpu)
    log.info("pool of %d processes: complete CR-Bio %.2f reports/s (CPU %.0f ms each), bare render %.2f/s (CPU %.0f "
             "ms each): %.2fx the bare render's time, %.2fx its CPU", args.workers, pooled[0], pooled[1],
             pooled_bare[0], pooled_bare[1], pooled_bare[0] / pooled[0], pooled[1] / pooled_bare[1])
    if args.rounds > 1:
        times = [b[0] / c[0] for b, c in rounds]
        cpus = [c[1] / b[1] for b, c in rounds]
        log.info("pool, %d alternating rounds of %d reports each: time ratio median %.2fx (rounds: %s), CPU ratio "
                 "median %.2fx (rounds: %s)", args.rounds, args.pool_reports, statistics.median(times),
                 " ".join(f"{r:.2f}" for r in times), statistics.median(cpus), " ".join(f"{r:.2f}" for r in cpus))


if __name__ == "__main__":
    main()
