"""Trigger: a validated report gets its documents in the very transaction that validates it.

Design: a document hook on ``DiagnosticReport`` writes (it produces documents, it is not a lab rule),
registered next to the write rules at start-up with the store and the lab profile. Every step of the
validation workflow (biological validation, autoverification, correction) writes the report through
the interactions inside its transaction; the trigger sees the report about to be written with the
transaction's ``session``, gathers with that session
(so it sees the results the step has just made final), generates and checks the documents, writes
them with the same session, and returns the report with its ``presentedForm``. So the report, its
documents and the superseded old versions commit or roll back together; the validation workflow is
not touched, and a document the validator rejects refuses the step (422 with the findings) instead
of leaving a validated report with an unchecked document. A write that changes nothing documented
(``Dossier.fingerprint``: e.g. a result only technically validated) keeps the current documents.
"""

from __future__ import annotations

import asyncio
from typing import Any

from resources.codes import REPORT_DOCUMENTED
from resources.interactions import WriteIntent
from resources.store.base import FhirStore, StoreSession
from server.access.caller import Caller
from server.catalog.repository import CatalogRepository
from server.context import AppContext
from server.documents.gather import Resource, gather
from server.documents.generate import generate
from server.documents.profile import LabProfile, load_profile
from server.documents.storage import next_version, store_documents

DOCUMENTED = REPORT_DOCUMENTED
"""Report statuses that have documents: something is biologically validated (``partial`` is not)."""
SOURCE_EXTENSION = "https://opensgl.org/fhir/StructureDefinition/documents-source"
"""On the report: the fingerprint of what its current documents were made from (``Dossier.fingerprint``)."""


def _source(report: Resource | None) -> str | None:
    return next((e.get("valueString") for e in (report or {}).get("extension", ()) if e.get("url") == SOURCE_EXTENSION),
                None)


def _with_source(report: Resource, forms: list[dict[str, Any]], source: str) -> Resource:
    others = [e for e in report.get("extension", ()) if e.get("url") != SOURCE_EXTENSION]
    return {**report, "presentedForm": forms, "extension": [*others, {"url": SOURCE_EXTENSION, "valueString": source}]}


async def publish(store: FhirStore, profile: LabProfile, report: Resource, current: Resource | None,
                  session: StoreSession | None, catalogue: CatalogRepository | None = None) -> Resource:
    """The report to write: with its current documents kept when what they show has not changed, else with
    the next version generated, checked and stored (in ``session``); as proposed when nothing is validated."""
    dossier = await gather(store, report, profile, session=session, catalogue=catalogue)
    if not dossier.results:
        return report
    source = dossier.fingerprint()
    if current and current.get("presentedForm") and _source(current) == source:
        return _with_source(report, current["presentedForm"], source)
    docs = await asyncio.to_thread(generate, dossier, next_version(current))
    return _with_source(report, await store_documents(store, report, docs, profile, session), source)


class DocumentTrigger:
    """The hook on ``DiagnosticReport`` writes (see the module docstring for why a hook)."""

    def __init__(self, store: FhirStore, profile: LabProfile) -> None:
        self.store, self.profile, self.catalogue = store, profile, CatalogRepository(store)

    async def __call__(self, caller: Caller, intent: WriteIntent) -> Resource | None:
        proposed = intent.proposed
        if intent.action == "delete" or proposed is None or proposed.get("status") not in DOCUMENTED \
                or not proposed.get("id"):
            return None
        return await publish(self.store, self.profile, proposed, intent.current, intent.session, self.catalogue)


def install_document_trigger(ctx: AppContext) -> None:
    """Start-up step: register the trigger with the app's write rules (run after the rules of the type)."""
    ctx.write_rules.add("DiagnosticReport", DocumentTrigger(ctx.store, load_profile(ctx.settings.lab_profile)))
