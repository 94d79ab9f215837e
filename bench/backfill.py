"""The start-up backfill's database memory on a large store (issue 16): ``.venv/bin/python -m bench.backfill
--observations 50000``.

A store of benchmark Observations is made by direct inserts (``bench.search_scale.stored``: the documents a
create writes), then its backfill markers are removed, as on a store written before they existed, and the
database reopened: the backfill runs before ``open_database`` returns. Baseline in the same run: one read of
the whole collection (what the backfill did before), in a freshly started database. Figure: the growth of the
database process's peak memory (VmHWM) over its size just after opening, for each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench.analyzer_ingest import out
from bench.process_peak import _hwm
from bench.search_scale import stored
from resources.search import links
from resources.store.backfill import LINKS_BACKFILL, META_BACKFILL, MIGRATIONS
from server.database import Database, open_database
from server.settings import Settings


def _db_pid(database: Database) -> int:
    assert database.embedded is not None, "the bench measures the embedded database"
    return database.embedded.pid


async def _build(data_dir: Path, count: int) -> None:
    database = await open_database(Settings(data_dir=data_dir))
    for first in range(0, count, 200):
        batch = range(first, min(first + 200, count))
        await database.db["Observation"].insert_many([stored(database, i) for i in batch])
    await database.close()


async def _whole_read(data_dir: Path) -> tuple[int, float]:
    database = await open_database(Settings(data_dir=data_dir))
    before, start = _hwm(_db_pid(database)), time.perf_counter()
    found = await database.db["Observation"].find({}, {"r": 1, "v": 1, "s": 1, links.FIELD: 1}).to_list()
    grown, took = _hwm(_db_pid(database)) - before, time.perf_counter() - start
    assert found
    await database.close()
    return grown, took


async def _backfill(data_dir: Path) -> tuple[int, float]:
    database = await open_database(Settings(data_dir=data_dir))
    await database.db[MIGRATIONS].delete_many({"_id": {"$in": [META_BACKFILL, LINKS_BACKFILL]}})
    before = _hwm(_db_pid(database))
    await database.close()
    start = time.perf_counter()
    database = await open_database(Settings(data_dir=data_dir))  # the backfill runs before it returns
    grown, took = _hwm(_db_pid(database)) - before, time.perf_counter() - start
    await database.close()
    return grown, took


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await _build(Path(tmp), count)
        out(f"{count} Observations stored; load average {os.getloadavg()}")
        whole, whole_s = await _whole_read(Path(tmp))
        out(f"baseline, one read of the collection: database peak +{whole // 1024} MB in {whole_s:.1f} s")
        grown, took = await _backfill(Path(tmp))
        out(f"start-up backfill (open included): database peak +{grown // 1024} MB in {took:.1f} s")
        out(f"ratio backfill / whole read (peak memory growth): {grown / max(whole, 1):.2f}; "
            f"load average {os.getloadavg()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=50_000)
    asyncio.run(main(parser.parse_args().observations))
