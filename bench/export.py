"""Benchmark: ``sgl export`` then ``sgl import`` of a store of generated patients and reports.

    .venv/bin/python -m bench.export [--patients 2000] [--keep]

Fills a fresh embedded database with ``--patients`` patients, each with a report, three results and (one in
ten) a PDF CR-Bio (tests/support/export_store.py), then runs ``sgl export --crbio`` and ``sgl import`` into
another empty data directory, as an operator would. Prints resources per second and the peak RSS of the
``sgl`` processes, against the baseline of the fill itself (bulk writes from this process), and checks that
the imported store holds the same number of resources.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.process_peak import run_measured
from server.database import open_database
from server.settings import Settings
from tests.support.export_store import fill

log = logging.getLogger("bench")
SGL = str(Path(sys.executable).parent / "sgl")


async def _fill(data: Path, patients: int) -> int:
    database = await open_database(Settings(data_dir=data))
    try:
        return await fill(database.store, range(patients), batch=500)
    finally:
        await database.close()


async def _hashes(data: Path) -> dict[str, dict[str, str]]:
    """Per resource type, id -> content hash as stored (the server's meta left out of the hash)."""
    database = await open_database(Settings(data_dir=data))
    try:
        names = [n for n in await database.db.list_collection_names() if n[:1].isupper() and "_" not in n]
        return {n: {d["_id"]: d["h"] async for d in database.db[n].find({}, projection={"h": 1})} for n in names}
    finally:
        await database.close()


def _run(args: list[str]) -> tuple[float, int, str]:
    return run_measured(args, ok=(0,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    work = Path(tempfile.mkdtemp(prefix="sgl-bench-export-"))
    log.info(f"load average {os.getloadavg()[0]:.1f}")
    start = time.perf_counter()
    total = asyncio.run(_fill(work / "source", options.patients))
    fill_rate = total / (time.perf_counter() - start)
    log.info(f"baseline (bulk fill from this process): {total} resources, {fill_rate:,.0f} resources/s")
    seconds, peak, out = _run([SGL, "export", str(work / "export"), "--crbio", "--data-dir", str(work / "source")])
    log.info(f"sgl export: {seconds:.1f} s, {total / seconds:,.0f} resources/s ({total / seconds / fill_rate:.2f} of "
          f"baseline), peak RSS {peak} MB")
    seconds, peak, out = _run([SGL, "import", str(work / "export"), "--data-dir", str(work / "target")])
    imported = sum(int(line.split(";")[1]) for line in out.splitlines()[1:] if ";" in line)
    rate = imported / seconds
    log.info(f"sgl import: {seconds:.1f} s, {rate:,.0f} resources/s ({rate / fill_rate:.2f} of baseline), "
             f"peak RSS {peak} MB; imported {imported} of {total}")
    source, target = asyncio.run(_hashes(work / "source")), asyncio.run(_hashes(work / "target"))
    source = {t: h for t, h in source.items() if h}
    differing = sum(1 for t, h in source.items() for i, v in h.items() if target.get(t, {}).get(i) != v)
    log.info(f"round trip: {sum(map(len, source.values()))} resources in {len(source)} types compared by content "
             f"hash, {differing} differ or are missing; load average {os.getloadavg()[0]:.1f}")
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
