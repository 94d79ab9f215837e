"""The document step: a worker takes each pinned job, makes the CR-Bio in a process pool, stores it briefly.

Why after the commit and in processes: generation is ≈0.3 s of CPU (WeasyPrint, XSLT schematrons). Inside
the validating transaction it held the transaction open and blocked the event loop's thread pool; in a
``ProcessPoolExecutor`` (one process per core) it runs beside the server, and the store write that follows is
a short transaction (Binary + DocumentReference ×3, the report's ``presentedForm``, the job done, the
deliveries of the outbox: all or nothing). A GET never writes (``crbio.py``).

Per job (``jobs.py``): read the committed report, gather, compare the fingerprint with what the current
documents show (nothing changed: done), generate, then store under ``If-Match`` on the version read, so a
report changed meanwhile is never given documents of its older state (the job was re-pinned by that change
and is simply taken again). A document that cannot be made (``DocumentRejected``, ``DocumentInputError``,
the ANS kit missing) fails the job at once; anything else (a crash of the pool) is retried with backoff,
then fails.
A failed job is a worklist Task naming the report and the reason, and the report says
``documents-status: failed`` with that reason: never a silent gap.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from facades.cda import KitError
from facades.pdf.errors import SealConfigError
from facades.pdf.seal_config import SealConfig
from resources.errors import Conflict, NotFound, SglError
from resources.interactions import WriteRule
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.delivery.backoff import backoff
from server.delivery.channel import Action
from server.delivery.lease import PENDING, Leases
from server.delivery.outbox import Outbox
from server.delivery.worker import LostLease
from server.documents.compose import Version
from server.documents.errors import DocumentInputError, DocumentRejected
from server.documents.gather import Dossier, Resource, gather
from server.documents.generate import Documents, generate_versions
from server.documents.jobs import COLLECTION, DONE, FAILED, with_status
from server.documents.profile import LabProfile
from server.documents.storage import next_version, store_documents
from server.documents.stored_profile import effective
from server.documents.trigger import DOCUMENTED, DOCUMENTS_STEP, source_of, with_source
from server.documents.warmup import prepare_worker
from server.stored_catalog import CatalogRepository
from server.validation.steps import workflow_step
from server.worklist import DOCUMENT_FAILED, open_task, worklist_task

log = logging.getLogger(__name__)
ATTEMPTS = 5


@dataclass(frozen=True)
class Refused:
    """Why a document cannot be made as things are (crosses the process boundary as plain text)."""

    reason: str


def generate_or_refuse(dossier: Dossier, version: Version, seal: SealConfig | None = None
                       ) -> tuple[Documents, ...] | Refused:
    """What the pool runs (a module-level function: picklable): every version the lab's setting asks for (one,
    or professional + patient: SGL.DOC.02). The refusals the caller must not retry come back as ``Refused``
    (our exceptions carry non-picklable arguments); a seal that cannot seal is one."""
    try:
        return generate_versions(dossier, version, seal=seal)
    except SealConfigError as exc:
        return Refused(f"CR-Bio seal (SGL.DOC.19): {exc}")
    except (DocumentRejected, DocumentInputError, KitError) as exc:
        first = exc.issues[0]
        where = ", ".join(first.expression[:3])
        return Refused(first.diagnostics + (f" (at {where})" if where else ""))


def document_pool(data_dir: Path, size: int, *, warm: bool = True) -> ProcessPoolExecutor:
    """``size`` processes (one per core by default, ``SGL_DOCUMENT_WORKERS``), spawned (not forked: the server
    has threads and an open database client); each compiles the schematrons and loads the fonts as it starts
    (``warmup.py``) unless ``warm`` is off."""
    return ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"),
                               initializer=prepare_worker, initargs=(data_dir, warm))


class DocumentProducer:
    def __init__(self, store: FhirStore, db: AsyncDatabase[Any], guard: WriteRule, profile: LabProfile,
                 outbox: Outbox, pool: ProcessPoolExecutor, leases: Leases, catalogue: CatalogRepository,
                 seal: SealConfig | None = None) -> None:
        self.store, self.db, self.guard, self.profile, self.outbox = store, db, guard, profile, outbox
        self.pool, self.leases, self.catalogue, self.seal = pool, leases, catalogue, seal

    async def handle(self, job: dict[str, Any]) -> None:
        report_id = job["_id"]
        try:
            report = (await self.store.read("DiagnosticReport", report_id)).resource or {}
        except NotFound:
            await self.leases.give_back(report_id, {"state": DONE, "error": "report deleted"})
            return
        if report.get("status") not in DOCUMENTED:
            await self.leases.give_back(report_id, {"state": DONE, "error": f"report {report.get('status')}"})
            return
        profile = await effective(self.db, self.profile)  # the texts the lab saved last (SGL.DOC.08-10)
        dossier = await gather(self.store, report, profile, catalogue=self.catalogue)
        source = dossier.fingerprint()
        if not dossier.results or (report.get("presentedForm") and source_of(report) == source):
            await self.leases.give_back(report_id, {"state": DONE})
            return
        version = next_version(report)
        try:
            made = await asyncio.get_running_loop().run_in_executor(self.pool, generate_or_refuse, dossier, version,
                                                                    self.seal)
        except Exception as exc:  # a pool process killed...: retried, then a Task
            await self._retry_or_fail(job, report, f"{type(exc).__name__}: {exc}")
            return
        if isinstance(made, Refused):
            await self._fail(job, report, made.reason)
            return
        await self._store(job, report, made, source, profile)

    async def _store(self, job: dict[str, Any], report: Resource, made: tuple[Documents, ...], source: str,
                     profile: LabProfile) -> None:
        number = made[0].version.number
        try:
            async with workflow_step(self.store, self.guard, DOCUMENTS_STEP) as writer:
                forms = await store_documents(self.store, report, made, profile, writer.session)
                out = with_status(with_source(report, forms, source), "ready", number)
                stored = await writer.update(out)  # If-Match: the report as read, or 412 (re-pinned: taken again)
                action = Action.PUBLISH if number == 1 else Action.REPLACE
                await self.outbox.record(writer.session, action, stored, number)
                if not await self.leases.give_back(job["_id"], {"state": DONE, "done": now_utc()},
                                                   session=writer.session):
                    raise LostLease(job["_id"])
        except (Conflict, LostLease) as exc:  # 409/412: the report moved on and re-pinned the job
            log.info("documents of DiagnosticReport/%s not stored (%s): the job is taken again", job["_id"], exc)
            await self.leases.give_back(job["_id"], {"state": PENDING, "due": now_utc()})
        except SglError as exc:
            await self._retry_or_fail(job, report, exc.diagnostics)

    async def _retry_or_fail(self, job: dict[str, Any], report: Resource, reason: str) -> None:
        attempts = int(job.get("attempts", 0)) + 1
        if attempts >= ATTEMPTS:
            await self._fail(job, report, reason)
            return
        log.warning("documents of DiagnosticReport/%s: attempt %d failed (%s)", job["_id"], attempts, reason)
        await self.leases.give_back(job["_id"], {"state": PENDING, "attempts": attempts, "error": reason,
                                                 "due": now_utc() + timedelta(seconds=backoff(attempts, 2.0, 300))})

    async def _fail(self, job: dict[str, Any], report: Resource, reason: str) -> None:
        """The job failed: a worklist Task and the report saying so, with the job, in one transaction."""
        log.error("documents of DiagnosticReport/%s cannot be produced: %s", job["_id"], reason)
        version = next_version(report).number
        try:
            async with workflow_step(self.store, self.guard, DOCUMENTS_STEP) as writer:
                task = await open_task(self.store, worklist_task(
                    DOCUMENT_FAILED, f"DiagnosticReport/{job['_id']}", job.get("patient"),
                    f"Le CR-Bio (version {version}) n'a pas pu être produit : {reason}"), writer.session)
                await writer.update(with_status(report, "failed", version, reason))
                await self.leases.give_back(job["_id"], {"state": FAILED, "error": reason, "task": task["id"]},
                                            session=writer.session)
        except SglError as exc:  # the report moved on: its new job will try again
            log.info("failure of DiagnosticReport/%s not recorded (%s): taken again", job["_id"], exc)
            await self.leases.give_back(job["_id"], {"state": PENDING, "due": now_utc()})


def job_leases(db: AsyncDatabase[Any], owner: str, lease_seconds: float) -> Leases:
    return Leases(db[COLLECTION], owner, lease_seconds)
