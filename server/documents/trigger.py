"""Trigger: a validated report gets its documents in the very transaction that validates it.

Design: a write guard on ``DiagnosticReport``, installed at start-up with the store and the lab
profile. Every step of the validation workflow (biological validation, autoverification,
correction) writes the report through the guarded interactions inside its transaction; the guard
sees the report about to be written with the transaction's ``session``, gathers with that session
(so it sees the results the step has just made final), generates and checks the documents, writes
them with the same session, and returns the report with its ``presentedForm``. So the report, its
documents and the superseded old versions commit or roll back together; the validation workflow is
not touched, and a document the validator rejects refuses the step (422 with the findings) instead
of leaving a validated report with an unchecked document. A write that changes nothing but
``meta`` / ``presentedForm`` keeps the current documents.
"""

from __future__ import annotations

import asyncio
from typing import Any

from resources.interactions import WriteIntent
from resources.store.base import FhirStore
from server.context import AppContext
from server.documents.gather import Resource, gather
from server.documents.generate import generate
from server.documents.profile import LabProfile, load_profile
from server.documents.storage import next_version, store_documents
from server.guards import Caller

DOCUMENTED = frozenset({"preliminary", "final", "corrected", "amended"})
"""Report statuses that have documents: something is biologically validated (``partial`` is not)."""
_VOLATILE = ("meta", "presentedForm", "text")


def _content(report: Resource) -> Resource:
    return {k: v for k, v in report.items() if k not in _VOLATILE}


def needs_documents(current: Resource | None, proposed: Resource) -> bool:
    if proposed.get("status") not in DOCUMENTED or not proposed.get("id"):
        return False
    return not (current and current.get("presentedForm") and _content(current) == _content(proposed))


async def publish(store: FhirStore, profile: LabProfile, report: Resource, current: Resource | None,
                  session: Any) -> Resource:
    """Generate, check and store the next version of the report's documents; the report to write."""
    dossier = await gather(store, report, profile, session=session)
    docs = await asyncio.to_thread(generate, dossier, next_version(current))
    forms = await store_documents(store, report, docs, profile, session)
    return {**report, "presentedForm": forms}


class DocumentTrigger:
    """The ``DiagnosticReport`` write rule (see the module docstring for why a guard)."""

    def __init__(self, store: FhirStore, profile: LabProfile) -> None:
        self.store, self.profile = store, profile

    async def __call__(self, caller: Caller, intent: WriteIntent) -> Resource | None:
        proposed = intent.proposed
        if intent.action == "delete" or proposed is None:
            return None
        if not needs_documents(intent.current, proposed):
            kept = (intent.current or {}).get("presentedForm")
            return {**proposed, "presentedForm": kept} if kept and proposed.get("status") in DOCUMENTED else None
        return await publish(self.store, self.profile, proposed, intent.current, intent.session)


def install_document_trigger(ctx: AppContext) -> None:
    """Start-up step: register the trigger on the app's guards."""
    ctx.guards.add("DiagnosticReport", DocumentTrigger(ctx.store, load_profile(ctx.settings.lab_profile)))
