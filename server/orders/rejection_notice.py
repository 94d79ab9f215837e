"""A refused tube is notified to who asked for it (issue 15, item 10): when a Specimen becomes ``unsatisfactory``
(the reception's non-conformity, with its HL7 table 0490 reason in ``condition``), a FHIR ``Communication`` to the
requester of each of its requests (``ServiceRequest.requester``) is written in the same transaction as the
Specimen: the refusal is never stored without its notice, and a notice never exists for a tube that was not
refused. Once only: written on the change to ``unsatisfactory`` (or when a tube is created already refused),
not on later edits of a refused tube.

Why a Specimen write rule, run once the Specimen is written (``WriteRules.add_after``): the reception screen
refuses a tube by a plain ``PUT Specimen`` (If-Match), as an integrator would; a tube may also arrive already
refused (``POST Specimen``, a transaction Bundle with its ServiceRequests, an order write). Every door that
writes a Specimen passes here, after the write and in its transaction, so the rule knows the new tube's id
and finds the requests created in the same Bundle. The workbench reads the notice back with
``Communication?about=Specimen/<id>``.

Delivery: the notice is mailed to each requester over MSSanté by the outbox (``server/delivery/notices.py``,
handed in as ``deliver`` by the wiring: orders do not import the delivery package), written in this same
transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from resources.errors import NotFound
from resources.fhirjson import instant
from resources.interactions import WriteIntent
from resources.search.date import now_utc
from resources.store.base import FhirStore, StoreSession
from server.access.caller import Caller
from server.write_rules import WriteRules

CATEGORY_SYSTEM = "https://opensgl.org/fhir/CodeSystem/communication-category"
CATEGORY = "specimen-rejection"
REFUSED = "unsatisfactory"
Deliver = Callable[[dict[str, Any], StoreSession | None], Awaitable[object]]
"""``await deliver(communication, session)``: write the notice's deliveries (in the Specimen's transaction)."""


def newly_refused(intent: WriteIntent) -> bool:
    """A tube created refused, or changed to refused (not a later edit of a refused one)."""
    current, proposed = intent.current or {}, intent.proposed or {}
    return (intent.action in ("create", "update") and proposed.get("status") == REFUSED
            and current.get("status") != REFUSED)


def notice(specimen: dict[str, Any], requests: list[dict[str, Any]], who: Caller) -> dict[str, Any] | None:
    """The Communication telling the requesters that ``specimen`` was refused; None when nobody asked for it."""
    recipients = [r["requester"] for r in requests if isinstance(r.get("requester"), dict)]
    if not recipients:
        return None
    reason = (specimen.get("condition") or [{}])[-1]
    label = reason.get("text") or next((c.get("display") for c in reason.get("coding", ()) if c.get("display")),
                                       "non-conformité")
    accession = (specimen.get("accessionIdentifier") or {}).get("value", specimen.get("id", ""))
    out: dict[str, Any] = {
        "resourceType": "Communication", "status": "completed",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": CATEGORY,
                                  "display": "Prélèvement non conforme"}]}],
        "priority": "urgent",
        "subject": specimen.get("subject"),
        "about": [{"reference": f"Specimen/{specimen['id']}"}],
        "basedOn": [{"reference": f"ServiceRequest/{r['id']}"} for r in requests],
        "recipient": recipients,
        "sender": {"display": who.display or who.id},
        "sent": instant(now_utc()),
        "reasonCode": [reason] if reason else [],
        "payload": [{"contentString": f"Le tube {accession} a été refusé par le laboratoire ({label}) : "
                                      "l'analyse ne peut être faite sur ce prélèvement, un nouveau prélèvement "
                                      "est nécessaire."}],
    }
    return {k: v for k, v in out.items() if v}


async def _requests(store: FhirStore, specimen: dict[str, Any], session: StoreSession | None) -> list[dict[str, Any]]:
    found = []
    for ref in specimen.get("request") or ():
        kind, _, rid = str(ref.get("reference", "")).partition("/")
        if kind != "ServiceRequest" or not rid:
            continue
        try:
            resource = (await store.read("ServiceRequest", rid, session=session)).resource
        except NotFound:
            continue
        if resource:
            found.append(resource)
    return found


def register_rejection_notice(write_rules: WriteRules, store: FhirStore, deliver: Deliver | None = None) -> None:
    async def rule(caller: Caller, intent: WriteIntent) -> dict[str, Any] | None:
        if intent.proposed is None or not intent.proposed.get("id") or not newly_refused(intent):
            return None
        made = notice(intent.proposed, await _requests(store, intent.proposed, intent.session), caller)
        if made is not None:
            stored = await store.create(made, session=intent.session)
            if deliver is not None and stored.resource is not None:
                await deliver(stored.resource, intent.session)
        return None

    write_rules.add_after("Specimen", rule)
