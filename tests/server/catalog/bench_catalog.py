"""Benchmark (not a test): the catalogue workflows on a catalogue of N copies of the seed's analyses, on a
fresh database of the embedded SecantusDB (or SGL_MONGODB_URI).

Run from the repository root: ``.venv/bin/python -m tests.server.catalog.bench_catalog [--copies 6]
[--changes 588]``. Measures the seed (all resources in one transaction), ``read_catalog``, the
LOINC_1-3 export, checking a LOINC_6 file and applying its changes (one transaction).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from resources.interactions import WriteIntent
from server.access.caller import system
from server.catalog import apply_import, circuit_codes, export_catalog, read_catalog, read_import, seed_catalog
from server.database import open_database
from server.settings import Settings
from terminology import Catalog, load_seed_catalog

log = logging.getLogger("bench")


def scaled_catalog(copies: int) -> Catalog:
    """The seed with each analysis repeated ``copies`` times under new local codes."""
    seed = load_seed_catalog()
    analyses = list(seed.analyses) + [dataclasses.replace(a, code=f"{a.code}-{k}", instrument_codes=())
                                      for k in range(1, copies) for a in seed.analyses]
    return dataclasses.replace(seed, analyses=tuple(analyses))


async def accept(intent: WriteIntent) -> dict[str, Any] | None:
    return intent.proposed


async def run(data_dir: Path, copies: int, changes: int) -> None:
    database = await open_database(Settings(data_dir=data_dir, database=f"bench-catalog-{uuid.uuid4().hex[:6]}"))
    try:
        catalog = scaled_catalog(copies)
        start = time.perf_counter()
        written = await seed_catalog(database.store, write_rule=accept, catalog=catalog)
        log.info("seed: %d resources in one transaction in %.2f s", written, time.perf_counter() - start)
        start = time.perf_counter()
        stored = await read_catalog(database.store)
        log.info("read_catalog: %d analyses in %.2f s", len(stored.catalog.analyses), time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            paths = await export_catalog(database.store, Path(tmp), date(2026, 12, 1))
            log.info("export LOINC_1-3: %.2f s", time.perf_counter() - start)
            header, *lines = paths[2].read_bytes().decode("utf-8-sig").splitlines()
            answer = [header + ";Code LOINC analyse;Libellé LOINC analyse"]
            answer += [line + (";13978-2;Transcodé" if i < changes else ";;") for i, line in enumerate(lines)]
            file = Path(tmp) / "LOINC_6_transcodage_resultats_20261201.csv"
            file.write_text("\r\n".join(answer), encoding="utf-8")
            start = time.perf_counter()
            result = await read_import(database.store, file, circuit_codes(Settings()))
            log.info("check LOINC_6: %d lines, %d changes in %.2f s", len(lines), len(result.changes),
                     time.perf_counter() - start)
            start = time.perf_counter()
            applied = await apply_import(database.store, result, write_rule=accept, caller=system("test"))
            log.info("apply: %d LOINC codes in one transaction in %.2f s", applied, time.perf_counter() - start)
        await database.client.drop_database(database.db.name)
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=6, help="copies of the seed's 98 analyses")
    parser.add_argument("--changes", type=int, default=50, help="LOINC_6 lines carrying a new code")
    parser.add_argument("--data-dir", type=Path, default=None, help="embedded database directory (default: temp)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("server", "weasyprint", "pikepdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.data_dir or Path(tmp) / "var", args.copies, args.changes))


if __name__ == "__main__":
    main()
