"""One directory load from configured or given sources (files or URLs), as the CLI and the schedule run it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from facades.annuaire import ExtractionError
from resources.search.date import now_utc
from resources.store.mongo import MongoFhirStore
from server.annuaire.report import RUNS, LoadReport
from server.annuaire.source import fetch, is_url

if TYPE_CHECKING:
    from server.annuaire.load import Progress

log = logging.getLogger(__name__)
CONNECTION_RETRIES = 5
"""Passes over the files when the database stops answering mid-load: each pass compares with what is
stored, so a new pass only writes what the interrupted one had not (the load is idempotent)."""


async def run_load(store: MongoFhirStore, sources: list[str], *, data_dir: Path, ca: Path | None = None,
                   progress: Progress | None = None) -> LoadReport:
    """Download what is a URL, then load every source in order into one run (one report); a lost database
    connection starts another pass (``CONNECTION_RETRIES``)."""
    # the loader (numpy for its hash ledgers) is imported by a load, not by ``sgl serve``'s start (README "Start-up")
    from server.annuaire.load import DirectoryLoad

    label = " + ".join(sources)
    try:
        paths = [await fetch(s, data_dir / "annuaire", ca=ca) if is_url(s) else Path(s) for s in sources]
    except ExtractionError as exc:  # the download failed: the run is recorded, nothing is loaded
        report = LoadReport(uuid.uuid4().hex, now_utc(), label, finished=now_utc(), error=str(exc),
                            inactivation="skipped: nothing was read")
        await store.db[RUNS].insert_one(report.document())
        return report
    earlier: LoadReport | None = None
    for attempt in range(1, CONNECTION_RETRIES + 1):
        loader = DirectoryLoad(store, label, progress=progress, run=earlier.run if earlier else None)
        try:
            report = await loader.load(paths)
        except ConnectionFailure as exc:  # the database stopped answering for a while (a busy machine)
            if attempt == CONNECTION_RETRIES:
                raise
            log.warning("directory load %s: the database connection failed (%s); reading the files again "
                        "(attempt %d of %d), what is stored already is left as it is", loader.report.run,
                        type(exc).__name__, attempt + 1, CONNECTION_RETRIES)
            if earlier is not None:
                loader.report.carry(earlier)
            earlier = loader.report
            await asyncio.sleep(attempt)
            continue
        if earlier is not None:
            report.carry(earlier)
        return report
    raise AssertionError("unreachable")


async def last_run(db: AsyncDatabase[Any]) -> dict[str, Any] | None:
    return await db[RUNS].find_one({}, sort=[("started", -1)])
