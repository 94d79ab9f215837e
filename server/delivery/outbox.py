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
from dataclasses import replace
from functools import partial
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.interactions.search import plan_search
from resources.search.date import now_utc
from resources.store.base import FhirStore, StoreSession, read_or_none
from server.delivery.channel import Action, Channel, DeliverySettings, DocumentEvent, Recipient, Resource
from server.delivery.dmp_blocking import dmp_block_reason
from server.delivery.dmp_settings import dmp_block, dmp_visibility
from server.delivery.facts import VERSIONS, Site, facts_of, record_version, route_of
from server.delivery.lease import PENDING
from terminology import CATALOG_SYSTEM

COLLECTION = "deliveries"
DELIVERED, FAILED, CANCELLED, BLOCKED = "delivered", "failed", "cancelled", "blocked"
FINISHED = (DELIVERED, FAILED, CANCELLED, BLOCKED)
BLOCKABLE = frozenset({"dmp"})
"""Channels a block stops (DMP.02 blocks DMP feeding; the DPI and MSSanté still receive): their delivery is
written ``blocked`` with the reason, and waits there until a person releases it (``$delivery-retry``)."""
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
        await deliveries.create_index([("patient", 1), ("channel", 1)])  # a patient's exchanges (SGL.INS.50)
        await deliveries.create_index([("notice", 1)])  # a refused tube's notice (notices.py)
        # the dashboards (server/dashboard): one period's deliveries / versions by an index range, never a scan
        # (equality before range: one FINESS's view uses the second index of each pair)
        await deliveries.create_index([("created", 1)])
        await deliveries.create_index([("facts.finess", 1), ("created", 1)])
        await self.db[VERSIONS].create_index([("produced", 1)])
        await self.db[VERSIONS].create_index([("finess", 1), ("produced", 1)])

    async def record(self, session: StoreSession | None, action: Action, report: Resource, version: int, *,
                     revision: int | None = None) -> list[str]:
        """Write the deliveries of this version (in ``session``); their ids. ``revision``: for ``SETTINGS``, the
        report version that changes the settings (several changes of one document version are distinct
        deliveries)."""
        patient_ref, patient = await self._subject(session, report)
        read = partial(self._read, session)

        async def definitions(codes: Sequence[str]) -> list[Resource]:
            wanted = ",".join(f"{CATALOG_SYSTEM}|{code}" for code in codes)
            request = await plan_search(self.store, "ObservationDefinition", [("identifier", wanted)], strict=True,
                                        session=session)
            return list((await self.store.search(request, session=session)).matches)

        async def delivered_to(channel: str) -> list[Recipient]:
            return await self.delivered_to(session, channel, str(report["id"]))

        settings = settings_for(report)
        reason = await dmp_block_reason(report, read, definitions) if action != Action.DELETE else None
        settings = replace(settings, blocked=reason is not None, blocked_reason=reason)

        event = DocumentEvent(action, report, patient, settings, read, delivered_to)
        facts = await facts_of(report, patient, settings, read, self.site)
        if action in (Action.PUBLISH, Action.REPLACE):
            await record_version(self.db, session, report, version, patient_ref, facts, now_utc())
        written = []
        for channel in self.channels:
            chosen = await self.record_for(session, channel.name, action, report, version,
                                           await channel.recipients(event), settings, facts, revision=revision)
            written += [key for key, _ in chosen]
        return written

    async def record_for(self, session: StoreSession | None, channel: str, action: Action, report: Resource,
                         version: int, recipients: Sequence[Recipient],
                         settings: DeliverySettings | None = None,
                         facts: dict[str, Any] | None = None, *, revision: int | None = None
                         ) -> list[tuple[str, bool]]:
        """Write one delivery of ``channel`` per recipient given (the channel's own answer, or a person's choice:
        manual MSSanté sending); each key with ``True`` when it is new, ``False`` when it was already there.
        ``settings`` and ``facts`` (the dashboards'): those ``record`` worked out (DMP.02 blocking included); by
        default the report's own."""
        patient_ref, patient = await self._subject(session, report)
        settings, written = settings or settings_for(report), []
        if facts is None:
            facts = await facts_of(report, patient, settings, partial(self._read, session), self.site)
        for recipient in recipients:
            key = idempotency_key(channel, recipient.name, report["id"], version, action)
            extra = dict(recipient.extra)
            if action == Action.SETTINGS and revision is not None:
                key += f":r{revision}"
                extra["metadata_version"] = str(await self._metadata_version(session, channel, recipient.name,
                                                                             report["id"], version))
            new = await self._write(session, key, channel, recipient.name, extra, action, report,
                                    version, patient_ref, settings, facts)
            written.append((key, new))
        return written

    async def delivered_to(self, session: StoreSession | None, channel: str, report_id: str) -> list[Recipient]:
        """Everyone ``channel`` actually delivered a version of the report to (``delivered``: submitted and not
        bounced since), each once, in the order they first received it."""
        found: dict[str, Recipient] = {}
        query = {"channel": channel, "report_id": report_id, "state": DELIVERED,
                 "action": {"$in": [Action.PUBLISH.value, Action.REPLACE.value]}}
        async for done in self.db[COLLECTION].find(query, session=session).sort([("created", 1), ("_id", 1)]):
            found.setdefault(done["recipient"], Recipient(done["recipient"], dict(done.get("recipient_extra") or {})))
        return list(found.values())

    async def _metadata_version(self, session: StoreSession | None, channel: str, recipient: str, report_id: str,
                                version: int) -> int:
        """The registry's metadata version a new ITI-57 of this document version succeeds: 1 plus the settings
        changes sent or on their way before it (each made a new metadata version)."""
        earlier = await self.db[COLLECTION].count_documents(
            {"channel": channel, "recipient": recipient, "report_id": report_id, "version": version,
             "action": Action.SETTINGS.value, "state": {"$in": [DELIVERED, PENDING]}}, session=session)
        return 1 + earlier

    async def _subject(self, session: StoreSession | None, report: Resource) -> tuple[str, Resource]:
        """The report's subject reference and the patient it names (empty when unknown)."""
        patient_ref = str((report.get("subject") or {}).get("reference", ""))
        patient = await self._read(session, *patient_ref.split("/", 1)) if "/" in patient_ref else None
        return patient_ref, patient or {}

    async def _read(self, session: StoreSession | None, rtype: str, rid: str) -> Resource | None:
        return await read_or_none(self.store, rtype, rid, session=session)

    async def _write(self, session: StoreSession | None, key: str, channel: str, recipient: str, extra: dict[str, Any],
                     action: Action, report: Resource, version: int, patient: str,
                     settings: DeliverySettings, facts: dict[str, Any]) -> bool:
        deliveries = self.db[COLLECTION]
        order_key = f"{channel}|{recipient}|{patient}|{report['id']}"
        before = await deliveries.find_one({"order_key": order_key, "state": {"$nin": list(FINISHED)},
                                            "_id": {"$ne": key}}, sort=[("created", -1)], session=session)
        doc = new_delivery(channel=channel, recipient=recipient, extra=extra, action=action, report_id=report["id"],
                           version=version, patient=patient, settings=settings, author=_author(report),
                           order_key=order_key, after=before["_id"] if before else None,
                           blocked=settings.blocked and channel in BLOCKABLE)
        doc.update(facts=facts, route=route_of(channel, recipient))
        done = await deliveries.update_one({"_id": key}, {"$setOnInsert": doc}, upsert=True, session=session)
        return done.upserted_id is not None


def new_delivery(*, channel: str, recipient: str, extra: dict[str, Any], action: Action, report_id: str, version: int,
                 patient: str, settings: DeliverySettings, author: str | None, order_key: str, after: str | None,
                 blocked: bool = False) -> dict[str, Any]:
    """A delivery as stored (to insert with its idempotency key as ``_id``): pending and due now, or blocked."""
    now = now_utc()
    return {"channel": channel, "recipient": recipient, "recipient_extra": extra, "action": action.value,
            "report_id": report_id, "version": version, "patient": patient, "settings": settings.as_dict(),
            "author": author, "order_key": order_key, "after": after, "state": BLOCKED if blocked else PENDING,
            "due": now, "created": now, "attempts": 0, "history": [], "lease_owner": None, "lease_until": None}
