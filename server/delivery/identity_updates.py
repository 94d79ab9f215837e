"""Identity changes propagate (SGL.INS.34, SGL.INS.36; SGL.INS.50 keeps them): a merge, a change of identity
status (qualification, downgrade) or a correction of a trait of a patient is sent, through the outbox, to each
DPI partner that takes identity messages (``sgl partners add ... --identity-updates``) **and** already received
data of that patient (a delivery of it, delivered or on its way).

Why a Patient write rule: every change of a Patient, whatever its door (REST, bundles, the identity operations,
the PAM-FR feed, ``sgl identity verify-all``), passes the write rules inside the transaction that stores it
(an update with a write rule always runs in one, ``resources/interactions/update.py``). The rule compares the
stored version with the one about to be written and, when the partners must hear of it, writes their deliveries
in that same transaction: the change is never stored without them, and they never exist without the change.

- ADT^A31 when the status changes, a strict trait changes (INS, birth names, birth date, sex, birthplace:
  ``server/identity/traits.py``) or the used name changes; ADT^A40 when the Patient gets a new ``replaced-by``
  link (merged into the survivor; sent to the partners that received data of either patient).
- A partner is not told of a change it made itself (an EHR that sent the update).
- The delivery is keyed ``hl7v2:<partner>:Patient/<id>:v<version>:identity`` (the Patient version being
  written), so a replayed write keeps one; it is sent after every unfinished delivery of that patient to that
  partner (an A31 never overtakes the ORU^R01 that told the partner of the patient).
- The message is built when it is sent, from the Patient as it is then (``hl7v2_channel.py``): a later change
  has its own delivery, sent after this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.ins import identity_status
from resources.interactions import WriteIntent
from resources.store.base import StoreSession
from server.access.caller import Caller
from server.access.roles import DPI
from server.delivery.channel import Action, DeliverySettings
from server.delivery.hl7v2_channel import NAME as CHANNEL
from server.delivery.hl7v2_channel import partner_extra
from server.delivery.lease import PENDING
from server.delivery.outbox import COLLECTION, DELIVERED, FINISHED, idempotency_key, new_delivery
from server.identity.traits import changed_traits
from server.partners.registry import PartnerRegistry
from server.write_rules import WriteRules

RECEIVED = (DELIVERED, PENDING)
"""A partner "received data" of a patient once a delivery of it is delivered or on its way (sent, or to be
sent, with the PID of the time it is built)."""


@dataclass(frozen=True)
class IdentityChange:
    patient: str
    """``Patient/<id>`` the message is about (PID; the survivor of a merge)."""
    version: int
    """The version of the Patient being written (part of the idempotency key)."""
    why: str
    merged: str | None = None
    """``Patient/<id>`` merged into ``patient`` (A40), else ``None`` (A31)."""

    @property
    def event(self) -> str:
        return "A40" if self.merged else "A31"


def _used_names(patient: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return [(str(n.get("family", "")), tuple(n.get("given", ()))) for n in patient.get("name", ())
            if n.get("use") == "usual"]


def _replaced_by(patient: dict[str, Any]) -> set[str]:
    return {str((link.get("other") or {}).get("reference", "")) for link in patient.get("link", ())
            if link.get("type") == "replaced-by"}


def identity_change(current: dict[str, Any], proposed: dict[str, Any]) -> IdentityChange | None:
    """What the partners must hear of when ``current`` becomes ``proposed``; ``None``: nothing."""
    rid = str(current.get("id") or proposed.get("id"))
    version = int((current.get("meta") or {}).get("versionId") or 0) + 1
    survivors = sorted(_replaced_by(proposed) - _replaced_by(current))
    if survivors and survivors[0].startswith("Patient/"):
        return IdentityChange(survivors[0], version, f"fusion dans {survivors[0]}", merged=f"Patient/{rid}")
    reasons = []
    before, after = identity_status(current), identity_status(proposed)
    if before != after:
        reasons.append(f"statut {before} -> {after}")
    changed = changed_traits(current, proposed)
    if changed:
        reasons.append("traits stricts modifiés : " + ", ".join(changed))
    if _used_names(current) != _used_names(proposed):
        reasons.append("nom ou prénom utilisé modifié")
    return IdentityChange(f"Patient/{rid}", version, "; ".join(reasons)) if reasons else None


class IdentityUpdates:
    """The Patient write rule that writes the ADT deliveries of a change (it never alters the Patient)."""

    def __init__(self, db: AsyncDatabase[Any], partners: PartnerRegistry) -> None:
        self.db, self.partners = db, partners

    async def __call__(self, caller: Caller, intent: WriteIntent) -> dict[str, Any] | None:
        if intent.action != "update" or intent.current is None or intent.proposed is None:
            return None
        change = identity_change(intent.current, intent.proposed)
        if change is not None:
            await self.record(change, caller, intent.session)
        return None

    async def record(self, change: IdentityChange, caller: Caller, session: StoreSession | None) -> list[str]:
        """Write one delivery per partner to tell, in ``session``; their ids."""
        patients = [change.patient, *([change.merged] if change.merged else [])]
        deliveries = self.db[COLLECTION]
        seen = {str(d["recipient"]) async for d in deliveries.find(
            {"patient": {"$in": patients}, "channel": CHANNEL, "state": {"$in": list(RECEIVED)}},
            {"recipient": 1}, session=session)}
        written = []
        for partner in await self.partners.all():
            if not (partner.role == DPI and partner.send_to and partner.identity_updates and partner.name in seen):
                continue
            if caller.id == f"partner:{partner.name}":
                continue  # the partner made this change itself
            key = idempotency_key(CHANNEL, partner.name, patients[-1], change.version, Action.IDENTITY)
            before = await deliveries.find_one(
                {"channel": CHANNEL, "recipient": partner.name, "patient": {"$in": patients},
                 "state": {"$nin": list(FINISHED)}, "_id": {"$ne": key}}, sort=[("created", -1)], session=session)
            extra = {**partner_extra(partner), "event": change.event, "why": change.why}
            if change.merged:
                extra["merged"] = change.merged
            doc = new_delivery(channel=CHANNEL, recipient=partner.name, extra=extra, action=Action.IDENTITY,
                               report_id="", version=change.version, patient=change.patient,
                               settings=DeliverySettings(), author=caller.practitioner,
                               order_key=f"{CHANNEL}|{partner.name}|{change.patient}|identity",
                               after=before["_id"] if before else None)
            await deliveries.update_one({"_id": key}, {"$setOnInsert": doc}, upsert=True, session=session)
            written.append(key)
        return written


def register_identity_updates(write_rules: WriteRules, db: AsyncDatabase[Any]) -> None:
    """After the identity rules (it sees the Patient as they decided it), on every Patient write."""
    rule = IdentityUpdates(db, PartnerRegistry(db))
    write_rules.add("Patient", rule)
