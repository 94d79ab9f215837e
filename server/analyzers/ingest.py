"""Store the results of one analyzer message: all of it in one transaction, idempotent, then ACK.

The caller (HL7 or ASTM handler) acknowledges only once ``ingest`` returned, i.e. once the
transaction committed; an exception aborts the transaction (nothing half-written) and becomes an
AE / NAK, so the analyzer sends the message again. A result already stored (same analyzer, tube,
test and run time: see ``IncomingResult.key``) is not stored twice, which makes that resend safe.

Reruns and dilutions: a result of the same test on the same tube with a later run time is another
Observation (another key). No link is written between them: ``derivedFrom`` would claim the new
value was computed from the old one and ``hasMember`` is for panels; the validation workflow finds
every run of a test with ``Observation?specimen=Specimen/<id>&code=<code>`` and tells them apart by
the run time in the ``instrument-result`` extension.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import PyMongoError

from resources.fhirjson import instant
from resources.interactions import create_many, update
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.access.roles import AUTOMATE
from server.analyzers.catalog_view import CatalogCache, CatalogView
from server.analyzers.incoming import RESULT_ID_SYSTEM, IncomingResult
from server.analyzers.lookup import find_all
from server.analyzers.matching import Matcher
from server.analyzers.observation import build_observation, build_task, filled
from server.guards import Guards

log = logging.getLogger(__name__)
KEYS_PER_SEARCH = 100
ANALYZER_ROLE = AUTOMATE
TRANSACTION_ATTEMPTS = 8
RETRY_PAUSE = 0.02


@dataclass
class IngestReport:
    produced: list[str] = field(default_factory=list)
    """``Observation/<id>`` and ``Task/<id>`` written."""
    duplicates: int = 0
    unmatched: int = 0


async def _stored_keys(store: FhirStore, keys: list[str], session: Any) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), KEYS_PER_SEARCH):
        chunk = keys[start:start + KEYS_PER_SEARCH]
        query = ",".join(f"{RESULT_ID_SYSTEM}|{k}" for k in chunk)
        for obs in await find_all(store, "Observation", [("identifier", query)], session=session):
            found.update(i["value"] for i in obs.get("identifier", ()) if i.get("system") == RESULT_ID_SYSTEM)
    return found


class ResultIngest:
    def __init__(self, store: FhirStore, guards: Guards, catalog: CatalogCache) -> None:
        self.store = store
        self.guards = guards
        self.catalog = catalog

    async def ingest(self, results: Sequence[IncomingResult]) -> IngestReport:
        """Match and store every result of one message, or nothing (the exception says why).

        A transaction that lost a write conflict to a concurrent one (``TransientTransactionError``,
        two analyzers writing at once) is run again from the start, a few times, before giving up.
        """
        view = await self.catalog.get()
        if any(view.analysis_for(r.analyzer, r.test_code) is None for r in results):
            view = await self.catalog.get(missed=True)
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                return await self._ingest_once(results, view)
            except PyMongoError as exc:
                if attempt == TRANSACTION_ATTEMPTS or not exc.has_error_label("TransientTransactionError"):
                    raise
                log.info("analyzer results: transaction conflict, attempt %d of %d", attempt, TRANSACTION_ATTEMPTS)
                await asyncio.sleep(random.uniform(0, RETRY_PAUSE * attempt))
        raise AssertionError("unreachable")

    async def _ingest_once(self, results: Sequence[IncomingResult], view: CatalogView) -> IngestReport:
        """Match every result, then write the new Observations and Tasks in one bulk create (ids chosen
        up front so a Task can point at its Observation); a rerun placeholder is filled by an update."""
        report = IngestReport()
        now = instant(now_utc())
        async with self.store.transaction() as session:
            matcher = Matcher(self.store, view, session)
            seen = await _stored_keys(self.store, list(dict.fromkeys(r.key for r in results)), session)
            new: list[tuple[dict[str, Any], str | None]] = []
            # one message comes from one analyzer: one caller for all its writes
            guard = self.guards.for_caller(Caller(id=f"analyzer:{results[0].analyzer}", role=ANALYZER_ROLE,
                                                  kind="partner")) if results else None
            for result in results:
                if result.key in seen:
                    report.duplicates += 1
                    continue
                seen.add(result.key)
                match = await matcher.match(result)
                observation = build_observation(result, match, issued=now)
                awaiting = (await matcher.awaiting_value(match.specimen, match.analysis.code)
                            if match.specimen is not None and match.analysis is not None else None)
                if awaiting is not None:
                    await update(self.store, "Observation", awaiting["id"], filled(awaiting, observation),
                                 session=session, guard=guard)
                    obs_id = awaiting["id"]
                else:
                    obs_id = str(uuid.uuid4())
                    new.append((observation, obs_id))
                report.produced.append(f"Observation/{obs_id}")
                if match.problem is not None:
                    task_id = str(uuid.uuid4())
                    new.append((build_task(result, match, obs_id, authored=now), task_id))
                    report.produced.append(f"Task/{task_id}")
                    report.unmatched += 1
                    log.warning("unmatched result %s (%s): %s", result.key, match.problem, match.detail)
            if new:
                await create_many(self.store, new, session=session, guard=guard)
        return report
