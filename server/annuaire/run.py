"""One directory load from configured or given sources (files or URLs), as the CLI and the schedule run it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from facades.annuaire import ExtractionError
from resources.search.date import now_utc
from resources.store.mongo import MongoFhirStore
from server.annuaire.load import DirectoryLoad, Progress
from server.annuaire.report import RUNS, LoadReport
from server.annuaire.source import fetch, is_url


async def run_load(store: MongoFhirStore, sources: list[str], *, data_dir: Path, ca: Path | None = None,
                   progress: Progress | None = None) -> LoadReport:
    """Download what is a URL, then load every source in order into one run (one report)."""
    label = " + ".join(sources)
    try:
        paths = [await fetch(s, data_dir / "annuaire", ca=ca) if is_url(s) else Path(s) for s in sources]
    except ExtractionError as exc:  # the download failed: the run is recorded, nothing is loaded
        report = LoadReport(uuid.uuid4().hex, now_utc(), label, finished=now_utc(), error=str(exc),
                            inactivation="skipped: nothing was read")
        await store.db[RUNS].insert_one(report.document())
        return report
    return await DirectoryLoad(store, label, progress=progress).load(paths)


async def last_run(db: AsyncDatabase[Any]) -> dict[str, Any] | None:
    return await db[RUNS].find_one({}, sort=[("started", -1)])
