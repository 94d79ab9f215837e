"""The inbound journal: each received message, raw, before it is processed or acknowledged.

It is the lab's proof of what arrived (and when, from whom) and the way to replay a message that
failed. Statuses: ``received`` -> ``processed`` | ``partial`` (some parts stored, the others on the
worklist) | ``error`` | ``rejected`` (``quarantined`` for bytes that could not even be parsed).
``produced`` lists the resources a message wrote (``Observation/<id>``, ``Task/<id>``).
"""

from __future__ import annotations

import logging
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from resources.search.date import now_utc
from resources.store.base import StoreSession

log = logging.getLogger(__name__)
COLLECTION = "inbound_messages"


class InboundJournal:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.collection = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes([
            IndexModel([("received_at", DESCENDING)], name="received_at"),
            IndexModel([("status", ASCENDING), ("received_at", DESCENDING)], name="status"),
            IndexModel([("control_id", ASCENDING)], name="control_id"),
        ])

    async def record(self, *, protocol: str, peer: str, raw: bytes, message_type: str | None = None,
                     control_id: str | None = None, status: str = "received", detail: str | None = None,
                     partner: dict[str, str] | None = None, charset: str | None = None) -> ObjectId:
        """Write the raw message durably (the caller acknowledges only after this returned).

        ``partner``: who sent it as the message names itself (HL7 MSH-3/MSH-4, ASTM H.5) and from
        which address; ``charset``: how the bytes were read, when the protocol does not say it.
        """
        doc: dict[str, Any] = {"protocol": protocol, "peer": peer, "raw": raw, "received_at": now_utc(),
                               "status": status, "message_type": message_type, "control_id": control_id,
                               "detail": detail}
        if partner:
            doc["partner"] = partner
        if charset:
            doc["charset"] = charset
        result = await self.collection.insert_one(doc)
        return result.inserted_id  # type: ignore[no-any-return]

    async def settle(self, entry: ObjectId, status: str, detail: str | None = None,
                     produced: list[str] | None = None, *, session: StoreSession | None = None) -> None:
        """Record the outcome: what was created or updated (``Type/id``), or why it failed. With a
        ``session``, inside that transaction (``settlement.py``): it commits with the results."""
        update: dict[str, Any] = {"status": status, "settled_at": now_utc(), "detail": detail}
        if produced:
            update["produced"] = produced
        await self.collection.update_one({"_id": entry}, {"$set": update}, session=session)
        log.info("inbound %s: %s%s", entry, status, f" ({detail})" if detail else "")

    async def quarantine(self, raw: bytes, peer: str, reason: str, *, protocol: str) -> None:
        await self.record(protocol=protocol, peer=peer, raw=raw, status="quarantined", detail=reason)

    async def find(self, entry: ObjectId) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": entry})

    async def left_received(self) -> list[dict[str, Any]]:
        """Entries never settled (the process or its database died while handling them), oldest first."""
        return await self.collection.find({"status": "received"}, sort=[("received_at", ASCENDING)]).to_list()
