"""Benchmark of the DMP client (facades/dmp) against a local ``sgl dmp-simulator`` over mutual TLS.

    .venv/bin/python bench/dmp.py [--reports 40] [--concurrency 4]

One CR-Bio (N3 + N1 from the project's CDA writer) per submission, each with its own uniqueIds:
  1. baseline: one mutual-TLS HTTP round trip to the simulator (``GET /_sim/stats``) on a kept-alive connection;
  2. building one ITI-41 request (signed VIHF + XAdES signature of the submission set + MTOM), no network;
  3. ITI-41 sent and answered, sequentially (the simulator verifies both signatures and the metadata);
  4. the same with ``--concurrency`` submissions in flight.
Prints medians / p99 in ms, submissions per second, ratios to the baseline and the machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facades.dmp import DmpClient, Seal, Software, Submission, VihfSubject, client_ssl_context  # noqa: E402
from facades.dmp.client import provide_request  # noqa: E402
from tests.support.dmp import BIOLOGIST, crbio_submission, start_dmp_simulator  # noqa: E402

SOFTWARE = Software("OpenSGL", "bench")
log = logging.getLogger("bench.dmp")
SENDER = VihfSubject.professional(BIOLOGIST)


def _variants(template: Submission, count: int, series: str) -> list[Submission]:
    """``count`` submissions with distinct uniqueIds (same bytes: the generation is not what is measured)."""
    return [replace(template, documents=tuple(replace(d, unique_id=f"{d.unique_id}.{series}{n}")
                                              for d in template.documents))
            for n in range(count)]


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _run(base_url: str, cert: Path, key: Path, ca: Path, reports: int, concurrency: int) -> None:
    seal = Seal.from_files(cert, key)
    template = crbio_submission(set_id="bench")
    context = client_ssl_context(cert, key, ca)
    async with DmpClient(base_url, context, SOFTWARE, seal, timeout=30) as dmp:
        http = dmp._http  # the client's own kept-alive connections, as the sends use them
        stats_url = base_url.split("/si-dmp-server")[0] + "/_sim/stats"
        await http.get(stats_url)
        baseline = []
        for _ in range(reports):
            start = time.perf_counter()
            (await http.get(stats_url)).raise_for_status()
            baseline.append((time.perf_counter() - start) * 1000)
        build = []
        for submission in _variants(template, min(reports, 20), "b"):
            start = time.perf_counter()
            provide_request(submission, SENDER, SOFTWARE, seal, base_url + "/repository")
            build.append((time.perf_counter() - start) * 1000)
        sequential = []
        begin = time.perf_counter()
        for submission in _variants(template, reports, "s"):
            start = time.perf_counter()
            await dmp.provide(submission, SENDER)
            sequential.append((time.perf_counter() - start) * 1000)
        sequential_rate = reports / (time.perf_counter() - begin)
        gate = asyncio.Semaphore(concurrency)
        concurrent: list[float] = []

        async def one(submission: Submission) -> None:
            async with gate:
                start = time.perf_counter()
                await dmp.provide(submission, SENDER)
                concurrent.append((time.perf_counter() - start) * 1000)

        begin = time.perf_counter()
        await asyncio.gather(*(one(submission) for submission in _variants(template, reports, "c")))
        concurrent_rate = reports / (time.perf_counter() - begin)
    base_p50, _ = _stats(baseline)
    for name, samples, rate in (("baseline mutual-TLS round trip", baseline, None),
                                ("build ITI-41 (VIHF + XAdES + MTOM)", build, None),
                                ("ITI-41 sequential", sequential, sequential_rate),
                                (f"ITI-41 concurrency {concurrency}", concurrent, concurrent_rate)):
        p50, p99 = _stats(samples)
        per_second = f"{rate:6.1f} submissions/s" if rate else " " * 20
        log.info("%-38s p50 %7.2f ms  p99 %7.2f ms  %s  x%5.1f baseline", name, p50, p99, per_second, p50 / base_p50)
    log.info("N3 %d B + N1 %d B per submission; %d submissions per series; load average %.1f on %d CPUs",
             len(template.documents[0].content), len(template.documents[1].content), reports, os.getloadavg()[0],
             os.cpu_count() or 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("facades.dmp").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        sim = start_dmp_simulator(Path(tmp) / "pki")
        try:
            asyncio.run(_run(sim.base_url, sim.client_cert, sim.client_key, sim.ca, args.reports, args.concurrency))
        finally:
            sim.stop()


if __name__ == "__main__":
    main()
