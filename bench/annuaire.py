"""Benchmark: ``sgl annuaire load`` of a synthetic PS_LibreAcces_Personne_activite extraction.

    .venv/bin/python -m bench.annuaire [--people 20000] [--keep]

Writes an extraction of ``--people`` professionals in the ANS shape (tests/support/annuaire_files.py; the
real file has about 2 million lines for 1.2 million people) to a fresh data directory, then runs, as an
operator would, ``sgl annuaire load`` three times: the first load (everything added), a reload of the same
file (everything unchanged) and a reload with 1 % of the names changed. For each: lines per second and the
peak RSS of the ``sgl`` process itself (VmHWM; the embedded database server is a separate process, not counted). The
baseline printed alongside is the same machine reading the file without writing (``--dry``), so the ratio
says what the database costs.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from bench.process_peak import run_measured
from tests.support.annuaire_files import write_ps

log = logging.getLogger("bench")
SGL = str(Path(sys.executable).parent / "sgl")


def _run(args: list[str]) -> tuple[float, int, str]:
    return run_measured(args, ok=(0, 1))


def _parse_only(path: Path) -> float:
    from facades.annuaire import Rejected, activity, open_extractions, rows

    start = time.perf_counter()
    with open_extractions(path) as sources:
        for source in sources:
            for row in rows(source.lines):
                if not isinstance(row, Rejected):
                    activity(row, [])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    work = Path(tempfile.mkdtemp(prefix="sgl-bench-annuaire-"))
    ps = write_ps(work / "PS_LibreAcces_Personne_activite_bench.txt", range(options.people))
    lines = sum(1 for _ in ps.open("rb")) - 1
    changed = write_ps(work / "PS_LibreAcces_Personne_activite_bench2.txt", range(options.people),
                       renamed=frozenset(range(0, options.people, 100)))
    log.info(f"extraction: {lines} lines, {ps.stat().st_size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f}")
    parse = _parse_only(ps)
    log.info(f"baseline (read + map, no database): {lines / parse:,.0f} lines/s")
    data = work / "var"
    for label, path in (("first load", ps), ("same file again", ps), ("1 % changed", changed)):
        seconds, peak, out = _run([SGL, "annuaire", "load", str(path), "--data-dir", str(data)])
        practitioners = re.search(r"^Practitioner;(\d+);(\d+);(\d+);(\d+)$", out, re.MULTILINE)
        counts = practitioners.group(0) if practitioners else "?"
        log.info(f"{label}: {seconds:.1f} s, {lines / seconds:,.0f} lines/s ({lines / seconds / (lines / parse):.3f} "
              f"of baseline), peak RSS of sgl {peak} MB; {counts}")
    if not options.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
