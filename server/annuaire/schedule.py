"""The scheduled reload (SGL.ANN.04): every ``SGL_ANNUAIRE_EVERY_HOURS`` hours (0: never) the server loads
``SGL_ANNUAIRE_SOURCE`` (files or URLs, comma separated, the MSSanté extraction first). The last run is
read from the database, so a restart does not reload early and two servers do not both load: a run
claims its slot by inserting its report first (see ``load.py``); a failed run is retried at the next slot.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from resources.search.date import now_utc
from resources.store.mongo import MongoFhirStore
from server.annuaire.run import last_run, run_load
from server.settings import Settings

log = logging.getLogger(__name__)


def next_due(last: dict[str, Any] | None, every_hours: float) -> datetime | None:
    if every_hours <= 0:
        return None
    return now_utc() if last is None else last["started"] + timedelta(hours=every_hours)


async def run_if_due(store: MongoFhirStore, settings: Settings) -> bool:
    """Load when due; True if a load ran."""
    if not settings.annuaire_source or settings.annuaire_every_hours <= 0:
        return False
    due = next_due(await last_run(store.db), settings.annuaire_every_hours)
    if due is None or due > now_utc():
        return False
    sources = [s.strip() for s in settings.annuaire_source.split(",") if s.strip()]
    report = await run_load(store, sources, data_dir=settings.data_dir, ca=settings.annuaire_ca)
    log.info("scheduled directory load %s: complete=%s, %s rejected lines, inactivation %s", report.run,
             report.complete, report.rejected_total, report.inactivation)
    return True


async def schedule_loop(store: MongoFhirStore, settings: Settings) -> None:
    """Run for the life of the server (cancelled at shutdown); a failing load is logged, never fatal."""
    while True:
        try:
            await run_if_due(store, settings)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the schedule must survive a bad download or file
            log.exception("scheduled directory load failed")
        await asyncio.sleep(settings.annuaire_poll)
