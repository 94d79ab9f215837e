"""Store the results of one analyzer message: all of it in one transaction, idempotent, then ACK.

The caller (HL7 or ASTM handler) acknowledges only once ``ingest`` returned, i.e. once the
transaction committed; an exception aborts the transaction (nothing half-written) and becomes an
AE / NAK, so the analyzer sends the message again.

Idempotency and corrections, decided per result key (analyzer, tube, test code, sub-id, run time:
``IncomingResult.key``) by the ledger (``ledger.py``, a unique ``_id`` in the database):

1. **New key**: a new Observation (and a worklist Task when it is unmatched).
2. **Same key, same value** (same fingerprint: value, unit, comparator, codings, correction flag):
   a true resend after a lost ACK. Nothing is written; the ACK is the same.
3. **Same key, another value, or OBX-11 = C**: a correction, never dropped. If the stored Observation
   is still ``registered``/``preliminary`` and no validation step touched it, it gets a new version
   with the new value (FHIR history keeps every earlier one; the ``instrument-result`` extension says
   ``correction``). If it was already validated, it is left as the biologist saw it and the new value
   is a new ``preliminary`` Observation with a worklist Task ``corrected-after-validation`` naming both.

Results the facade could not read (``RefusedIncoming``) get a worklist Task ``invalid-result`` with
the record as received (once: a resend finds it in the ledger).

Reruns and dilutions: a result of the same test on the same tube with a later run time is another
Observation (another key). No link is written between them: ``derivedFrom`` would claim the new
value was computed from the old one and ``hasMember`` is for panels; the validation workflow finds
every run of a test with ``Observation?specimen=Specimen/<id>&code=<code>`` and tells them apart by
the run time in the ``instrument-result`` extension.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from resources.errors import NotFound, PreconditionFailed
from resources.fhirjson import instant
from resources.interactions import ReferenceCheck, WriteRule, create_many, update
from resources.interactions.references import Target
from resources.search.date import now_utc
from resources.store.base import FhirStore, StoreSession
from resources.store.transactions import run_in_transaction
from server.access.caller import Caller
from server.access.roles import AUTOMATE
from server.analyzers.catalog_view import current_view
from server.analyzers.incoming import RESULT_ID_SYSTEM, IncomingResult, RefusedIncoming
from server.analyzers.ledger import LedgerEntry, ResultLedger
from server.analyzers.lookup import find_all
from server.analyzers.matching import Matcher
from server.analyzers.observation import (
    UNMATCHED_REASON_SYSTEM,
    Match,
    build_observation,
    build_refused_task,
    build_task,
    editable,
    filled,
    with_correction,
)
from server.stored_catalog import CatalogRepository
from server.write_rules import WriteRules

log = logging.getLogger(__name__)
ANALYZER_ROLE = AUTOMATE
TRANSACTION_ATTEMPTS = 8


@dataclass
class IngestReport:
    produced: list[str] = field(default_factory=list)
    """``Observation/<id>`` and ``Task/<id>`` written."""
    duplicates: int = 0
    unmatched: int = 0
    corrected: int = 0
    refused: int = 0
    worklist: list[tuple[IncomingResult, str, str]] = field(default_factory=list)
    """The stored results that went to the worklist: (result, reason code, sentence)."""


OnCommit = Callable[[IngestReport, StoreSession], Awaitable[None]]
"""What a handler adds to the ingest transaction once the results are written (see ``ResultIngest.ingest``)."""


@dataclass
class _Batch:
    """What one transaction creates in bulk, and the ledger rows it writes."""

    now: str
    refs: ReferenceCheck
    """The bulk create's reference check: on committed data in the first attempt, like the matching."""
    new: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    new_keys: list[LedgerEntry] = field(default_factory=list)
    changed_keys: list[LedgerEntry] = field(default_factory=list)

    def add(self, resource: dict[str, Any]) -> str:
        rid = str(uuid.uuid4())
        self.new.append((resource, rid))
        return rid

    def matched(self, match: Match) -> None:
        """The tube and the order the matching found, read in the same way the check would read them: they
        resolve without a second lookup (the subject and the device are still looked up)."""
        for rtype, found in (("Specimen", match.specimen), ("ServiceRequest", match.request)):
            if found is not None:
                self.refs.known.add(Target(rtype, found["id"]))


async def _patient_of(matcher: Matcher, item: RefusedIncoming) -> str | None:
    """The patient of a refused result's tube, else the one its PID / P record identifies."""
    found = await matcher.specimens(item.specimen_id) if item.specimen_id else []
    if len(found) == 1 and found[0].get("subject"):
        return str(found[0]["subject"]["reference"])
    return await matcher.patient_for(item.patient)


class ResultIngest:
    def __init__(self, store: FhirStore, write_rules: WriteRules, catalog: CatalogRepository) -> None:
        self.store = store
        self.write_rules = write_rules
        self.catalog = catalog
        self.ledger = ResultLedger(store.db)  # type: ignore[attr-defined]

    async def ingest(self, results: Sequence[IncomingResult], refused: Sequence[RefusedIncoming] = (),
                     on_commit: OnCommit | None = None) -> IngestReport:
        """Match and store every result of one message, or nothing (the exception says why).

        ``on_commit(report, session)`` runs last inside the transaction (the handler settles the
        message's journal entry there: ``server/inbound/settlement.py``), so it commits with the results.

        A transaction that lost a write conflict to a concurrent one (two analyzers writing at once, or
        the same result on two connections: the ledger's unique key; a rerun placeholder filled meanwhile)
        is run again from the start, a few times, before giving up (``run_in_transaction``).
        """
        attempts = 0

        async def once(session: StoreSession) -> IngestReport:
            nonlocal attempts
            attempts += 1
            report = await self._ingest_once(results, refused, session, look_up=attempts > 1)
            if on_commit is not None:
                await on_commit(report, session)
            return report
        return await run_in_transaction(self.store, once, TRANSACTION_ATTEMPTS, what="analyzer results",
                                        also=(PreconditionFailed,))

    async def _ingest_once(self, results: Sequence[IncomingResult], refused: Sequence[RefusedIncoming],
                           session: StoreSession, *, look_up: bool) -> IngestReport:
        """Match every result, then write the new Observations and Tasks in one bulk create (ids chosen
        up front so a Task can point at its Observation); updates (a rerun placeholder filled, a
        correction) go one by one. The ledger rows are written last, in the same transaction.

        Without ``look_up`` (the first attempt) every key is taken as new, without reading the ledger:
        almost every message is. A key already stored (a resend, a correction) then fails the ledger's
        unique insert, the transaction is dropped, and the next attempt reads the ledger first."""
        view = await current_view(self.catalog, session)  # the catalogue this transaction sees: one small read
        report = IngestReport()
        now = instant(now_utc())
        analyzer = (results[0].analyzer if results else refused[0].analyzer if refused else "")
        write_rule = self.write_rules.for_caller(Caller(id=f"analyzer:{analyzer}", role=ANALYZER_ROLE, kind="partner"))
        # The first attempt matches on what is committed, outside the transaction: a read inside it leaves
        # its cursor on the database's index pages until the commit (SecantusDB), and while any writer's
        # cursor sits on the page every ingest inserts into, WiredTiger cannot split that page once it
        # outgrows its memory limit: each insert then sleeps retrying (seconds of ACK delay; README,
        # "Analyzer ingestion"). What is written is new (Observations, Tasks, ledger rows) except a rerun
        # placeholder, filled only at the version read (else the attempt is run again). A retry, which
        # follows a conflict, matches inside its transaction as before.
        matcher = Matcher(self.store, view, session if look_up else None)
        keys = list(dict.fromkeys([*(r.key for r in results), *(r.key for r in refused)]))
        ledger = await self.ledger.find(keys, session) if look_up else {}
        batch = _Batch(now, ReferenceCheck(committed=not look_up))
        for result in results:
            prior = ledger.get(result.key)
            if prior is not None and prior.fingerprint == result.fingerprint:
                report.duplicates += 1
                continue
            entry = await self._store_one(result, prior, matcher, batch, report, session, write_rule)
            if prior is None:
                batch.new_keys.append(entry)
            else:
                batch.changed_keys.append(entry)
            ledger[result.key] = entry
        for item in refused:
            if item.key in ledger:
                report.duplicates += 1
                continue
            task_id = batch.add(build_refused_task(item, authored=now, patient=await _patient_of(matcher, item)))
            report.produced.append(f"Task/{task_id}")
            report.refused += 1
            entry = LedgerEntry(item.key, "", "")
            batch.new_keys.append(entry)
            ledger[item.key] = entry
        if batch.new:
            # the first attempt looks the references up on committed data, like its matching (see the README)
            await create_many(self.store, batch.new, session=session, write_rule=write_rule, references=batch.refs)
        await self.ledger.write(batch.new_keys, batch.changed_keys, session)
        return report

    async def _store_one(self, result: IncomingResult, prior: LedgerEntry | None, matcher: Matcher,
                         batch: _Batch, report: IngestReport, session: StoreSession | None,
                         write_rule: WriteRule) -> LedgerEntry:
        match = await matcher.match(result)
        batch.matched(match)
        observation = build_observation(result, match, issued=batch.now)
        current = await self._current(prior, session) if prior is not None else None
        if prior is not None:
            observation = with_correction(observation, result, prior.versions + 1)
        open_tasks: list[dict[str, Any]] = []
        if current is not None and editable(current):
            obs_id = current["id"]
            await update(self.store, "Observation", obs_id, filled(current, observation), session=session,
                         write_rule=write_rule, references=ReferenceCheck(committed=matcher.session is None))
            report.corrected += 1
            open_tasks = await find_all(self.store, "Task", [("identifier", f"{RESULT_ID_SYSTEM}|{result.key}"),
                                                             ("status", "requested")], session=session, max_pages=1)
        else:
            awaiting = (await matcher.awaiting_value(match.specimen, match.analysis.code)
                        if prior is None and match.specimen is not None and match.analysis is not None else None)
            if awaiting is not None:
                obs_id = awaiting["id"]
                read_outside = matcher.session is None  # then only the version read may be filled
                await update(self.store, "Observation", obs_id, filled(awaiting, observation), session=session,
                             write_rule=write_rule, references=ReferenceCheck(committed=read_outside),
                             if_match=f'W/"{awaiting["meta"]["versionId"]}"' if read_outside else None)
            else:
                obs_id = batch.add(observation)
        report.produced.append(f"Observation/{obs_id}")
        problem = match
        if prior is not None and current is not None and not editable(current):
            problem = replace(match, problem="corrected-after-validation",
                              detail=f"the analyzer sent another value for {prior.observation}, already validated; "
                                     f"the new value is Observation/{obs_id}")
            report.corrected += 1
        if open_tasks:  # the worklist entry of the value this correction replaces
            await self._close_or_keep(open_tasks, problem, session, write_rule)
        if problem.problem is not None:
            if not open_tasks:
                patient = await matcher.patient_for(result.patient)
                task_id = batch.add(build_task(result, problem, obs_id, authored=batch.now, patient=patient))
                report.produced.append(f"Task/{task_id}")
            report.unmatched += 1
            report.worklist.append((result, problem.problem, problem.detail))
            log.warning("unmatched result %s (%s): %s", result.key, problem.problem, problem.detail)
        return LedgerEntry(result.key, result.fingerprint, f"Observation/{obs_id}",
                           (prior.versions + 1) if prior is not None else 1)

    async def _close_or_keep(self, tasks: list[dict[str, Any]], match: Match, session: StoreSession | None,
                             write_rule: WriteRule) -> None:
        """A corrected value that is now matched closes the worklist entries of the value it replaces
        (``cancelled``, saying why); one still unmatched keeps them, with the new reason."""
        for task in tasks:
            if match.problem is None:
                changed = {**task, "status": "cancelled",
                           "statusReason": {"text": "resolved: the analyzer corrected the result"}}
            else:
                changed = {**task, "statusReason": {"coding": [{"system": UNMATCHED_REASON_SYSTEM,
                                                                "code": match.problem}], "text": match.detail}}
            changed.pop("meta", None)
            await update(self.store, "Task", task["id"], changed, session=session, write_rule=write_rule)

    async def _current(self, prior: LedgerEntry, session: StoreSession | None) -> dict[str, Any] | None:
        rtype, _, rid = prior.observation.partition("/")
        try:
            return (await self.store.read(rtype, rid, session=session)).resource
        except NotFound:
            return None
