"""Worklist Tasks the server opens when something needs a person: a CR-Bio that could not be produced, a
delivery that failed for good. One shape for both, so the workbench lists them with one search
(``Task?code=https://opensgl.org/fhir/CodeSystem/worklist|<code>&status=requested``).
"""

from __future__ import annotations

from typing import Any

from resources import interactions
from resources.errors import NotFound
from resources.fhirjson import instant
from resources.interactions import ReferenceCheck
from resources.search.date import now_utc
from resources.store.base import FhirStore, StoreSession

WORKLIST_SYSTEM = "https://opensgl.org/fhir/CodeSystem/worklist"
DOCUMENT_FAILED = "document-production-failed"
DELIVERY_FAILED = "delivery-failed"
DISPLAY = {DOCUMENT_FAILED: "CR-Bio non produit : cause à corriger",
           DELIVERY_FAILED: "Envoi en échec : à relancer ou annuler"}
"""The code's display, the same for every Task of the code (a failed delivery may carry a CR-Bio, an identity
message or a refused tube's notice: the Task's ``code.text`` says which)."""

DELIVERY_FAILED_LABELS = {
    "notice": "Avis de tube refusé non remis au prescripteur : à relancer ou le prévenir par téléphone",
    "identity": "Envoi de l'identité au partenaire en échec : à relancer ou annuler",
}
"""By delivery action (``server/delivery/channel.py`` ``Action``); every other action carries a CR-Bio."""
REPORT_DELIVERY_FAILED = "Envoi du CR-Bio en échec : à relancer ou annuler"
TRUST_REFUSED = "Connexion refusée (certificat) : à corriger par l'administrateur, l'envoi réessaie"
"""The label of a delivery's Task opened at the first certificate refusal (``server/delivery/worker.py``)."""


def delivery_failed_label(action: str) -> str:
    """The French label (``code.text``) of a failed delivery's Task: what was not delivered, what to do."""
    return DELIVERY_FAILED_LABELS.get(str(action), REPORT_DELIVERY_FAILED)


def worklist_task(code: str, focus: str | None, patient: str | None, description: str,
                  inputs: dict[str, str] | None = None, *, label: str | None = None) -> dict[str, Any]:
    """A worklist Task; ``label`` (``code.text``, the words a person reads) defaults to the code's display;
    ``focus`` is what it is about (none for a mailbox that cannot be read: ``server/delivery/mssante_alert.py``)."""
    task: dict[str, Any] = {
        "resourceType": "Task", "status": "requested", "intent": "order", "priority": "urgent",
        "code": {"coding": [{"system": WORKLIST_SYSTEM, "code": code, "display": DISPLAY[code]}],
                 "text": label or DISPLAY[code]},
        "authoredOn": instant(now_utc()), "description": description[:4000],
    }
    if focus:
        task["focus"] = {"reference": focus}
    if patient:
        task["for"] = {"reference": patient}
    if inputs:
        task["input"] = [{"type": {"text": key}, "valueString": value[:4000]} for key, value in inputs.items()]
    return task


async def open_task(store: FhirStore, task: dict[str, Any], session: StoreSession | None = None) -> dict[str, Any]:
    """Store the Task (through the interactions: checked against the model like any other write). Its references
    must resolve, but may name a resource deleted since: the Task says what happened to it (a withdrawn
    report's failed withdrawal delivery)."""
    outcome = await interactions.create(store, "Task", task, session=session,
                                        references=ReferenceCheck(deleted_ok=True))
    assert outcome.stored is not None and outcome.stored.resource is not None
    return outcome.stored.resource


OPEN_STATUSES = frozenset({"draft", "requested", "received", "accepted", "ready", "in-progress", "on-hold"})
"""A Task in one of these statuses still waits for a person."""


async def task_if_open(store: FhirStore, task_id: str, session: StoreSession | None = None) -> dict[str, Any] | None:
    """The stored Task while it still waits for a person; ``None`` once a person deleted it (``DELETE /fhir/Task``
    is allowed to the responsible biologist) or closed it (completed, cancelled...): the server then has nothing
    to close, and opens a new Task if a person must be told again."""
    try:
        current = (await store.read("Task", task_id, session=session)).resource
    except NotFound:  # Gone (deleted) included
        return None
    return current if current is not None and current.get("status") in OPEN_STATUSES else None


async def change_task(store: FhirStore, current: dict[str, Any], change: dict[str, Any],
                      session: StoreSession | None = None) -> dict[str, Any]:
    """The stored Task ``current`` (as read by :func:`task_if_open`) with ``change`` applied (top-level elements
    replaced), written as a new version."""
    changed = {k: v for k, v in {**current, **change}.items() if k != "meta"}
    outcome = await interactions.update(store, "Task", str(current["id"]), changed, session=session,
                                        references=ReferenceCheck(deleted_ok=True))
    assert outcome.stored is not None and outcome.stored.resource is not None
    return outcome.stored.resource
