"""Benchmark: ``sgl annuaire load`` of a synthetic PS_LibreAcces_Personne_activite extraction.

    .venv/bin/python -m bench.annuaire [--people 20000] [--keep]

Writes an extraction of ``--people`` professionals in the ANS shape (tests/support/annuaire_files.py; the
real file has about 2 million lines for 1.2 million people) to a fresh data directory, then runs, as an
operator would, ``sgl annuaire load`` three times: the first load (everything added), a reload of the same
file (everything unchanged) and a reload with 1 % of the names changed. For each: lines per second, and the
peak RSS of the ``sgl`` process itself and of the embedded database it starts (VmHWM of each).

Two baselines from the same run: reading and mapping the file without writing (what the database costs), and
a raw ``insert_many`` of the very documents the load stored (read back from the store, same batches of 2,000)
into collections without indexes, in the same database (what the search indexes, the history and the
bookkeeping cost). The ratio printed is the load's lines/s over the raw insert's lines/s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pymongo.asynchronous.collection import AsyncCollection

from bench.process_peak import run_measured_tree
from tests.support.annuaire_files import write_ps

log = logging.getLogger("bench")
SGL = str(Path(sys.executable).parent / "sgl")
TYPES = ("Practitioner", "PractitionerRole", "Organization")
RAW_BATCH = 2000


def _parse_only(path: Path) -> float:
    from facades.annuaire import Rejected, activity, open_extractions, rows

    start = time.perf_counter()
    with open_extractions(path) as sources:
        for source in sources:
            for row in rows(source.lines):
                if not isinstance(row, Rejected):
                    activity(row, [])
    return time.perf_counter() - start


async def _raw_insert(data: Path, ps: Path) -> tuple[int, float]:
    """(documents, seconds): the documents the load stores (the file mapped again, each resource as the store
    writes it) inserted into collections without indexes, in batches of 2,000 lines, timing only the inserts.
    Not read back from the store: a whole-collection read is what the embedded database cannot do cheaply."""
    from facades.annuaire import Rejected, activity, open_extractions, rows
    from server.database import open_database
    from server.settings import Settings

    database = await open_database(Settings(data_dir=data))
    documents, seconds = 0, 0.0
    targets = {t: database.db[f"bench_raw_{t}"] for t in TYPES}
    written: set[str] = set()
    try:
        for target in targets.values():
            await target.drop()
        with open_extractions(ps) as sources:
            for source in sources:
                batch: dict[str, dict[str, dict[str, object]]] = {t: {} for t in TYPES}
                for n, row in enumerate(rows(source.lines), 1):
                    if not isinstance(row, Rejected):
                        act = activity(row, [])
                        for res in (act.practitioner, act.role, act.organization):
                            # each resource once per run, as the load writes it (a site shared by many lines, a
                            # person whose two lines fall on both sides of a batch boundary here)
                            if res and res["id"] not in written:
                                batch[res["resourceType"]][res["id"]] = res
                                written.add(res["id"])
                    if n % RAW_BATCH == 0:
                        documents, seconds = await _insert_batch(database.store, targets, batch, documents, seconds)
                documents, seconds = await _insert_batch(database.store, targets, batch, documents, seconds)
        for target in targets.values():
            await target.drop()
    finally:
        await database.close()
    return documents, seconds


async def _insert_batch(store: object, targets: dict[str, AsyncCollection[dict[str, object]]],
                        batch: dict[str, dict[str, dict[str, object]]], documents: int,
                        seconds: float) -> tuple[int, float]:
    from resources.fhirjson import content_hash
    from resources.search.date import now_utc

    lu = now_utc()
    for rtype, resources in batch.items():
        docs = [store._document(r, 1, lu, content_hash(r), "POST")  # type: ignore[attr-defined]  # noqa: SLF001
                for r in resources.values()]
        if docs:
            seconds += await _timed_insert(targets[rtype], docs)
            documents += len(docs)
        resources.clear()
    return documents, seconds


async def _timed_insert(target: AsyncCollection[dict[str, object]], docs: list[dict[str, object]]) -> float:
    start = time.perf_counter()
    await target.insert_many(docs, ordered=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--first-only", action="store_true", help="only the first load (the large runs)")
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    work = Path(tempfile.mkdtemp(prefix="sgl-bench-annuaire-"))
    ps = write_ps(work / "PS_LibreAcces_Personne_activite_bench.txt", range(options.people))
    lines = sum(1 for _ in ps.open("rb")) - 1
    changed = None if options.first_only else write_ps(
        work / "PS_LibreAcces_Personne_activite_bench2.txt", range(options.people),
        renamed=frozenset(range(0, options.people, 100)))
    log.info(f"extraction: {lines} lines, {ps.stat().st_size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f}")
    parse = _parse_only(ps)
    log.info(f"baseline (read + map, no database): {lines / parse:,.0f} lines/s")
    data = work / "var"
    rates: dict[str, float] = {}
    loads = (("first load", ps), ("same file again", ps), ("1 % changed", changed))
    for label, path in loads[:1] if options.first_only else loads:
        seconds, peak, database_peak, out = run_measured_tree(
            [SGL, "annuaire", "load", str(path), "--data-dir", str(data)], ok=(0, 1))
        practitioners = re.search(r"^Practitioner;(\d+);(\d+);(\d+);(\d+)$", out, re.MULTILINE)
        counts = practitioners.group(0) if practitioners else "?"
        for line in (x for x in out.splitlines() if x.startswith(("error;", "inactivation;skipped"))):
            log.info(f"{label}: {line}")  # a load that broke off says why (the figures are then not a full load)
        rates[label] = lines / seconds
        log.info(f"{label}: {seconds:.1f} s, {lines / seconds:,.0f} lines/s, peak RSS sgl {peak} MB, "
                 f"embedded database {database_peak} MB; {counts}; load average {os.getloadavg()[0]:.1f}")
    documents, raw = asyncio.run(_raw_insert(data, ps))
    log.info(f"raw insert_many of the same {documents:,} documents, no index: {raw:.1f} s, "
             f"{documents / raw:,.0f} documents/s = {lines / raw:,.0f} lines/s")
    for label, rate in rates.items():
        log.info(f"ratio {label} / raw insert: {rate / (lines / raw):.3f}")
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
