"""Dashboard facts for the deliveries stored before the facts existed (issue 16), once per database.

The outbox stamps ``facts`` and ``route`` on each delivery and writes a ``crbio_versions`` line in the storing
transaction (``server/delivery/facts.py``); a delivery stored by an earlier version has neither, so the
dashboards did not count it. At start-up (``start_delivery``) or by ``sgl dashboard backfill``, each such
delivery gets them, worked out as the outbox does (``facts_of``) from the report and the patient as they are
now (their state at the time is not kept: the validator, the results and a qualified INS rarely change after
a delivery), the delivery's own settings snapshot and the lab's site; its version line is dated by the
delivery's creation. Idempotent: a delivery that has facts is left alone, a version line is only inserted,
and a marker in ``_migrations`` makes later start-ups skip the walk.

Why in windows of ``created``, backwards from today: on the embedded database a query no index serves (``facts``
missing) reads the whole collection into memory first; a range of the ``created`` index reads that window only.
The walk is the start-up backfill's (``resources/store/windows.py``): windows of about 500 deliveries, down to
the date before which this store wrote nothing, then one last window for anything older.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.search.date import now_utc
from resources.store.backfill import MIGRATIONS
from resources.store.base import FhirStore, read_or_none
from resources.store.windows import walk_back
from server.delivery.channel import Action, DeliverySettings, Resource
from server.delivery.facts import Site, facts_of, record_version, route_of
from server.delivery.outbox import COLLECTION

log = logging.getLogger(__name__)
FACTS_BACKFILL = "delivery-facts-1"
_VERSIONED = (Action.PUBLISH.value, Action.REPLACE.value)


async def _backfill_one(db: AsyncDatabase[Any], store: FhirStore, site: Site, delivery: dict[str, Any]) -> bool:
    report = await read_or_none(store, "DiagnosticReport", str(delivery.get("report_id", ""))) or {
        "id": delivery.get("report_id", "")}
    patient_ref = str(delivery.get("patient") or "")
    kind, _, pid = patient_ref.partition("/")
    patient = (await read_or_none(store, kind, pid) if kind == "Patient" and pid else None) or {}

    async def read(rtype: str, rid: str) -> Resource | None:
        return await read_or_none(store, rtype, rid)

    settings = DeliverySettings.from_dict(delivery.get("settings") or {})
    facts = await facts_of(report, patient, settings, read, site)
    done = await db[COLLECTION].update_one(
        {"_id": delivery["_id"], "facts": {"$exists": False}},
        {"$set": {"facts": facts, "route": route_of(str(delivery.get("channel", "")),
                                                     str(delivery.get("recipient", "")))}})
    if delivery.get("action") in _VERSIONED:
        await record_version(db, None, report, int(delivery.get("version") or 1), patient_ref, facts,
                             delivery["created"])
    return done.modified_count == 1


async def backfill_delivery_facts(db: AsyncDatabase[Any], store: FhirStore, site: Site, *,
                                  now: datetime | None = None, force: bool = False) -> int | None:
    """Give the older deliveries their facts; how many were completed, or None when the marker says it was
    done already (``force``: walk again anyway, e.g. after restoring old deliveries)."""
    if not force and await db[MIGRATIONS].find_one({"_id": FACTS_BACKFILL}) is not None:
        return None
    updated = 0
    if await db[COLLECTION].estimated_document_count():  # a count without filter: no document is read
        start = (now or now_utc()) + timedelta(days=1)  # a clock a little ahead of this one
        async for window in walk_back(db[COLLECTION], "created", start, projection={"history": 0}):
            for delivery in window.documents:
                if "facts" not in delivery:
                    updated += await _backfill_one(db, store, site, delivery)
    await db[MIGRATIONS].update_one({"_id": FACTS_BACKFILL}, {"$set": {"done": now_utc(), "deliveries": updated}},
                                    upsert=True)
    return updated


async def backfill_at_start(db: AsyncDatabase[Any], store: FhirStore, site: Site) -> None:
    """The start-up's run, in the background (a large old outbox must not delay the listeners): logs what it
    did; a failure is logged and retried at the next start (the marker is written only at the end)."""
    try:
        completed = await backfill_delivery_facts(db, store, site)
    except Exception:  # noqa: BLE001 - a background task: say it, the next start-up retries
        log.exception("the dashboard facts backfill failed; the next start-up tries again")
        return
    if completed:
        log.info("dashboard facts given to %d deliveries stored before they existed", completed)
