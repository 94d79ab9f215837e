"""Trigger: the validating transaction records a document job; the documents are made after it commits.

Design (issue 12 item 4): a hook on ``DiagnosticReport`` writes (registered with the write rules) sees
every write of a report inside its transaction (biological validation, autoverification, correction, any
REST write). When what the documents would show changes (``Dossier.fingerprint``, gathered with the
transaction's session so the results the step has just made final are seen), it pins the report's document
job to the version being written (``jobs.record_job``, same session: the job commits or rolls back with the
report) and marks the report ``documents-status: in-progress`` with the ``$cr-bio`` address, which is what
the validation answer shows. Generation (about 0.4 s of CPU) happens later in ``producer.py``, in a process
pool, outside any transaction; a document the ANS validator rejects no longer refuses the validation: it
becomes a worklist Task.

A report withdrawn (deleted, ``entered-in-error``) after its documents were delivered gets its withdrawal
deliveries in the same transaction (``Outbox.record``). The documents step itself (``intent.step ==
"documents"``) passes untouched.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.codes import REPORT_DOCUMENTED, REPORT_WITHDRAWN
from resources.interactions import WriteIntent
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.delivery.channel import Action
from server.delivery.outbox import Outbox
from server.documents.gather import Resource, gather
from server.documents.jobs import record_job, with_status
from server.documents.profile import LabProfile
from server.documents.storage import next_version
from server.stored_catalog import CatalogRepository

DOCUMENTED = REPORT_DOCUMENTED
"""Report statuses that have documents: something is biologically validated (``partial`` is not)."""
WITHDRAWN = REPORT_WITHDRAWN
SOURCE_EXTENSION = "https://opensgl.org/fhir/StructureDefinition/documents-source"
"""On the report: the fingerprint of what its current documents were made from (``Dossier.fingerprint``)."""
DOCUMENTS_STEP = "documents"


def source_of(report: Resource | None) -> str | None:
    return next((e.get("valueString") for e in (report or {}).get("extension", ()) if e.get("url") == SOURCE_EXTENSION),
                None)


def with_source(report: Resource, forms: list[dict[str, Any]], source: str) -> Resource:
    others = [e for e in report.get("extension", ()) if e.get("url") != SOURCE_EXTENSION]
    return {**report, "presentedForm": forms, "extension": [*others, {"url": SOURCE_EXTENSION, "valueString": source}]}


def _version(current: Resource | None) -> int:
    return int(((current or {}).get("meta") or {}).get("versionId") or 0) + 1


class DocumentTrigger:
    """The hook on ``DiagnosticReport`` writes (see the module docstring)."""

    def __init__(self, store: FhirStore, db: AsyncDatabase[Any], profile: LabProfile, outbox: Outbox,
                 catalogue: CatalogRepository) -> None:
        self.store, self.db, self.profile, self.outbox = store, db, profile, outbox
        self.catalogue = catalogue

    async def __call__(self, caller: Caller, intent: WriteIntent) -> Resource | None:
        if intent.step == DOCUMENTS_STEP:
            return None
        current, proposed = intent.current, intent.proposed
        if current and current.get("presentedForm") and (intent.action == "delete" or proposed is None
                                                          or proposed.get("status") in WITHDRAWN):
            await self.outbox.record(intent.session, Action.DELETE, current, next_version(current).number - 1)
            return None
        if proposed is None or proposed.get("status") not in DOCUMENTED or not proposed.get("id"):
            return None
        dossier = await gather(self.store, proposed, self.profile, session=intent.session, catalogue=self.catalogue)
        if not dossier.results:
            return None
        source = dossier.fingerprint()
        forms = (current or {}).get("presentedForm") or []
        if forms and source_of(current) == source:
            return with_source(proposed, forms, source)  # nothing documented changed: the documents stay
        await record_job(self.db, intent.session, proposed["id"], _version(current), source,
                         (proposed.get("subject") or {}).get("reference"))
        kept = {**proposed, "presentedForm": forms} if forms else {k: v for k, v in proposed.items()
                                                                   if k != "presentedForm"}
        return with_status(kept, "in-progress", next_version(current).number)
