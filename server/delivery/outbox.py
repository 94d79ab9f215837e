"""The outbox: in the transaction that stores (or withdraws) a document version, one delivery per channel
and recipient, so a version is never stored without its deliveries nor delivered without being stored.

A delivery (collection ``deliveries``) is keyed by its idempotency key
``<channel>:<recipient>:<report>:v<version>:<action>``: writing it twice (a retried transaction, a replayed
step) keeps one. It carries the settings in force (``DeliverySettings``: a snapshot), the author, and
``after``: the delivery of the same channel, recipient, patient and report still unfinished when it was
written; the worker does not send it before that one is finished, so a replacement never overtakes the
version it replaces. Every attempt and the partner's answer are appended to ``history`` and kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.errors import NotFound
from resources.search.date import now_utc
from resources.store.base import FhirStore, StoreSession
from server.delivery.channel import Action, Channel, DeliverySettings, DocumentEvent, Resource
from server.delivery.dmp_settings import dmp_block, dmp_visibility
from server.delivery.facts import VERSIONS, Site, facts_of, record_version, route_of
from server.delivery.lease import PENDING

COLLECTION = "deliveries"
DELIVERED, FAILED, CANCELLED, BLOCKED = "delivered", "failed", "cancelled", "blocked"
FINISHED = (DELIVERED, FAILED, CANCELLED, BLOCKED)
BLOCKABLE = frozenset({"dmp"})
"""Channels a dossier's blocking stops (DMP.02 blocks DMP feeding; the DPI and MSSanté still receive)."""
CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"


def idempotency_key(channel: str, recipient: str, report_id: str, version: int, action: Action) -> str:
    return f"{channel}:{recipient}:{report_id}:v{version}:{action.value}"


def settings_for(report: Resource) -> DeliverySettings:
    """The settings in force for this report now: confidentiality, DMP masking / visibility and DMP blocking
    (``dmp_settings.py``: the report's security labels and tag)."""
    codes = {s.get("code") for s in (report.get("meta") or {}).get("security", ())
             if s.get("system") == CONFIDENTIALITY_SYSTEM}
    blocked = dmp_block(report)
    return DeliverySettings(confidentiality=next((c for c in ("V", "R") if c in codes), "N"),
                            blocked=blocked is not None, blocked_reason=blocked, **dmp_visibility(report))


def _author(report: Resource) -> str | None:
    return next((str(r["reference"]) for r in report.get("resultsInterpreter", ())
                 if str(r.get("reference", "")).startswith("Practitioner/")), None)


class Outbox:
    def __init__(self, db: AsyncDatabase[Any], store: FhirStore, channels: Sequence[Channel],
                 site: Site | None = None) -> None:
        self.db, self.store, self.channels, self.site = db, store, list(channels), site or Site()

    async def ensure_indexes(self) -> None:
        deliveries = self.db[COLLECTION]
        await deliveries.create_index([("state", 1), ("due", 1)])
        await deliveries.create_index([("order_key", 1), ("created", 1)])
        await deliveries.create_index([("report_id", 1)])
        # the dashboards (server/dashboard): one period's deliveries / versions by an index range, never a scan
        # (equality before range: one FINESS's view uses the second index of each pair)
        await deliveries.create_index([("created", 1)])
        await deliveries.create_index([("facts.finess", 1), ("created", 1)])
        await self.db[VERSIONS].create_index([("produced", 1)])
        await self.db[VERSIONS].create_index([("finess", 1), ("produced", 1)])

    async def record(self, session: StoreSession | None, action: Action, report: Resource, version: int) -> list[str]:
        """Write the deliveries of this version (in ``session``); their ids."""
        patient_ref = str((report.get("subject") or {}).get("reference", ""))
        patient = await self._read(session, *patient_ref.split("/", 1)) if "/" in patient_ref else None
        settings = settings_for(report)

        async def read(rtype: str, rid: str) -> Resource | None:
            return await self._read(session, rtype, rid)

        event = DocumentEvent(action, report, patient or {}, settings, read)
        facts = await facts_of(report, patient or {}, settings, read, self.site)
        if action in (Action.PUBLISH, Action.REPLACE):
            await record_version(self.db, session, report, version, patient_ref, facts, now_utc())
        written = []
        for channel in self.channels:
            for recipient in await channel.recipients(event):
                key = idempotency_key(channel.name, recipient.name, report["id"], version, action)
                await self._write(session, key, channel.name, recipient.name, dict(recipient.extra), action, report,
                                  version, patient_ref, settings, facts)
                written.append(key)
        return written

    async def _read(self, session: StoreSession | None, rtype: str, rid: str) -> Resource | None:
        try:
            return (await self.store.read(rtype, rid, session=session)).resource
        except NotFound:
            return None

    async def _write(self, session: StoreSession | None, key: str, channel: str, recipient: str, extra: dict[str, Any],
                     action: Action, report: Resource, version: int, patient: str,
                     settings: DeliverySettings, facts: dict[str, Any]) -> None:
        deliveries, now = self.db[COLLECTION], now_utc()
        order_key = f"{channel}|{recipient}|{patient}|{report['id']}"
        before = await deliveries.find_one({"order_key": order_key, "state": {"$nin": list(FINISHED)},
                                            "_id": {"$ne": key}}, sort=[("created", -1)], session=session)
        doc = {"channel": channel, "recipient": recipient, "recipient_extra": extra, "action": action.value,
               "report_id": report["id"], "version": version, "patient": patient, "settings": settings.as_dict(),
               "author": _author(report), "order_key": order_key, "after": before["_id"] if before else None,
               "state": BLOCKED if settings.blocked and channel in BLOCKABLE else PENDING, "due": now,
               "created": now, "facts": facts, "route": route_of(channel, recipient), "attempts": 0, "history": [],
               "lease_owner": None, "lease_until": None}
        await deliveries.update_one({"_id": key}, {"$setOnInsert": doc}, upsert=True, session=session)
