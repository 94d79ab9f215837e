"""A refused tube's notice mailed to its requesters over MSSanté: outbox items that carry a message, no document.

``server/orders/rejection_notice.py`` writes the ``Communication`` when a tube becomes (or is created)
``unsatisfactory``; in that same transaction :class:`NoticeDeliveries` writes one ``mssante`` delivery per
requester (``Action.NOTICE``), so the refusal, its notice and the sending commit together or not at all. From
there the outbox does what it does for every delivery: leased, sent once (its Message-ID derived from the
idempotency key ``mssante:<requester>:Communication/<id>:v1:notice``), retried with backoff, every attempt in
its history, a failure Task at the end; ``$deliveries`` of the Communication shows the state.

The requester's address comes from the directory (``PractitionerRole``, then ``Practitioner``, then
``Organization`` telecom: the MSSanté rule of ``server/mssante/recipients.py``). A requester without one gets
a delivery that is ``failed`` at once, ``unsent = "no-address"``, with the reason and a worklist Task: the lab
sees that nobody was mailed and phones instead. Once an address is entered, ``$delivery-retry`` sends it (the
address is looked up again when the stored one is empty).
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.store.base import FhirStore, StoreSession, read_or_none
from server.delivery.channel import Action, DeliveryItem, DeliverySettings, DocumentSet, Notice, Resource
from server.delivery.facts import route_of
from server.delivery.outbox import COLLECTION, FAILED, idempotency_key, new_delivery
from server.mssante.recipients import display_name, mssante_address, read_party
from server.worklist import DELIVERY_FAILED, delivery_failed_label, open_task, worklist_task

CHANNEL = "mssante"
NO_ADDRESS = "no-address"


class NoticeDeliveries:
    """``await deliveries(communication, session)``: the notice's deliveries, written in ``session``; their ids."""

    def __init__(self, db: AsyncDatabase[Any], store: FhirStore) -> None:
        self.db, self.store = db, store

    async def __call__(self, communication: Resource, session: StoreSession | None) -> list[str]:
        notice = f"Communication/{communication['id']}"
        patient = str((communication.get("subject") or {}).get("reference", ""))
        about = next((str(a.get("reference")) for a in communication.get("about", ())), "")

        async def read(rtype: str, rid: str) -> Resource | None:
            return await read_or_none(self.store, rtype, rid, session=session)

        written = []
        for recipient in communication.get("recipient", ()):
            who = str(recipient.get("reference") or "")
            if not who:
                continue
            party = await read_party(read, who)
            address = mssante_address(*party) if party else None
            name = display_name(party[1], party[2], party[0]) if party else who
            key = idempotency_key(CHANNEL, who, notice, 1, Action.NOTICE)
            doc = new_delivery(channel=CHANNEL, recipient=who, action=Action.NOTICE, report_id="", version=1,
                               extra={"audience": "pro", "address": address or "", "name": name, "notice": notice,
                                      "specimen": about},
                               patient=patient, settings=DeliverySettings(), author=None,
                               order_key=f"{CHANNEL}|{who}|{notice}", after=None)
            doc.update(notice=notice, route=route_of(CHANNEL, who))
            if address is None:
                doc.update(await self._unsent(who, name, notice, patient, key, session))
            await self.db[COLLECTION].update_one({"_id": key}, {"$setOnInsert": doc}, upsert=True, session=session)
            written.append(key)
        return written

    async def _unsent(self, who: str, name: str, notice: str, patient: str, key: str,
                      session: StoreSession | None) -> dict[str, Any]:
        """A delivery nobody can be mailed: failed at once, with the reason and a worklist Task."""
        why = (f"non envoyé : aucune adresse MSSanté connue pour {name} ({who}) ; renseignez-la (Annuaire Santé, "
               "SGL.ANN.05) puis relancez l'envoi, ou prévenez le prescripteur par téléphone")
        task = await open_task(self.store, worklist_task(
            DELIVERY_FAILED, notice, patient or None,
            f"Avis de tube refusé ({notice}) au prescripteur {name} par MSSanté : {why}",
            {"delivery": key, "channel": CHANNEL, "recipient": who, "answer": why},
            label=delivery_failed_label(Action.NOTICE)), session)
        return {"state": FAILED, "unsent": NO_ADDRESS, "last_answer": why, "task": task["id"]}


async def notice_set(store: FhirStore, item: DeliveryItem) -> DocumentSet:
    """What a ``NOTICE`` delivery sends, read back now: the Communication, its tube, its patient and the address
    (the stored one, else the directory's now)."""
    def reference(value: object) -> tuple[str, str]:
        kind, _, rid = str(value or "").partition("/")
        return kind, rid

    communication = await read_or_none(store, *reference(item.extra.get("notice"))) or {}
    specimen = await read_or_none(store, *reference(item.extra.get("specimen"))) or {}
    patient = await read_or_none(store, *reference(item.patient_id)) if item.patient_id else None
    address = str(item.extra.get("address") or "") or None
    if address is None:
        party = await read_party(lambda t, i: read_or_none(store, t, i), item.recipient)
        address = mssante_address(*party) if party else None
    return DocumentSet({}, patient or {}, (), {}, notice=Notice(communication, specimen, address))
