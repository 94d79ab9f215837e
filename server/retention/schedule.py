"""The retention job run by the server every ``SGL_RETENTION_EVERY_HOURS`` hours (0: never) and by ``sgl retention
run``. Each real run's report is kept in ``retention_runs`` (the last one tells when the next is due, so a restart
does not run early); a dry run is only printed."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from resources.search.date import now_utc
from resources.store.mongo import MongoFhirStore
from server.retention.identity_documents import COLLECTION as COPIES
from server.retention.job import RetentionReport, run_retention
from server.settings import Settings

log = logging.getLogger(__name__)
RUNS = "retention_runs"
POLL_S = 300.0


async def ensure_indexes(db: Any) -> None:
    await db[COPIES].create_index([("patient", 1), ("created", 1)])
    await db["crbio_versions"].create_index([("patient", 1), ("produced", 1)])


async def run_and_record(store: MongoFhirStore, settings: Settings, now: datetime, *,
                         dry_run: bool = False) -> RetentionReport:
    await ensure_indexes(store.db)
    report = await run_retention(store, store.db, now, archive_years=settings.retention_archive_years,
                                 destroy_years=settings.retention_destroy_years,
                                 identity_years=settings.retention_identity_years, dry_run=dry_run)
    if not dry_run:
        await store.db[RUNS].insert_one({"started": now, **report.as_dict()})
    return report


async def run_if_due(store: MongoFhirStore, settings: Settings, now: datetime) -> RetentionReport | None:
    if settings.retention_every_hours <= 0:
        return None
    last = await store.db[RUNS].find_one({}, sort=[("started", -1)])
    if last is not None and last["started"] + timedelta(hours=settings.retention_every_hours) > now.replace(
            tzinfo=None):
        return None
    report = await run_and_record(store, settings, now)
    log.info("retention run: %s", {k: v for k, v in report.as_dict().items() if v})
    return report


async def retention_loop(store: MongoFhirStore, settings: Settings) -> None:
    """For the life of the server (cancelled at shutdown); a failing run is logged and tried at the next poll."""
    while True:
        try:
            await run_if_due(store, settings, now_utc())
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the schedule must survive one bad run
            log.exception("retention run failed")
        await asyncio.sleep(POLL_S)
