"""Benchmark of the offline CDA validator (not a test): ``python -m tests.facades.cda.bench_cda_conformance``.

Prints the one-off costs (assembling + compiling the kit's schematrons, cold and warm disk cache)
and, after a warm-up, the wall and CPU time per document over the ANS CR-BIO 2024.01 examples.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time

from facades.cda.conformance import default_kit, schematrons_for, validate_cda

log = logging.getLogger("bench")


def main(rounds: int = 5) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    os.environ.setdefault("SGL_CACHE_DIR", tempfile.mkdtemp(prefix="sgl-bench-"))
    examples = sorted((default_kit().root / "ExemplesCDA").glob("BIO-CR-BIO_2024.01_*.xml"))
    start = time.perf_counter()
    schematrons_for("N3")
    log.info("compile N3 schematrons (cache %s): %.1f s", os.environ["SGL_CACHE_DIR"],
             time.perf_counter() - start)
    for path in examples * 2:
        validate_cda(path)
    walls, cpus, threads = [], [], []
    for _ in range(rounds):
        for path in examples:
            wall, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
            report = validate_cda(path)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            threads.append((time.thread_time() - thread) * 1000)
            if not report.ok:
                raise SystemExit(f"{path} no longer validates")
    log.info("%d validations of %d documents", len(walls), len(examples))
    log.info("wall ms/doc: median %.1f, p90 %.1f, max %.1f", statistics.median(walls),
             statistics.quantiles(walls, n=10)[-1], max(walls))
    log.info("cpu  ms/doc: median %.1f (process, with Saxon GC threads), %.1f (calling thread)",
             statistics.median(cpus), statistics.median(threads))
    log.info("throughput: %.1f documents/s (one thread)", 1000 / statistics.mean(walls))
    last = validate_cda(examples[0]).timings_ms
    log.info("one document, per step (ms): %s", ", ".join(f"{k} {v:.1f}" for k, v in last.items()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
