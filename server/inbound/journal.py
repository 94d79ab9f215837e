"""The inbound journal: each received message, raw, before it is processed or acknowledged.

It is the lab's proof of what arrived (and when, from whom) and the way to replay a message that
failed. Statuses: ``received`` -> ``processed`` | ``partial`` (some parts stored, the others on the
worklist) | ``error`` | ``rejected`` (``quarantined`` for bytes that could not even be parsed).
``produced`` lists the resources a message wrote (``Observation/<id>``, ``Task/<id>``).

Several ``sgl serve`` processes on one database: each entry names the process that received it (``owner``:
host, pid, run id). The start-up replay takes (atomically, one process wins) only the entries no live process
is handling: no owner (older versions), a process of this host that is gone (its pid is dead, or it is an
earlier run of this very pid), or any owner once the entry is older than ``stale`` (another host's process may
be alive: only an entry left that long since it arrived or was last claimed is taken as abandoned; the setting
``journal_replay_grace``). An entry too young at start-up is taken by a later pass once it is that old
(``replay.py``), so it is not left until the next restart. Each claim counts itself in ``replays``.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from resources.search.date import now_utc
from resources.store.base import StoreSession

log = logging.getLogger(__name__)
COLLECTION = "inbound_messages"
STALE = timedelta(minutes=10)
"""An entry still ``received`` this long after it arrived is abandoned, whoever received it."""


def _run_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


class InboundJournal:
    def __init__(self, db: AsyncDatabase[Any], owner: str | None = None, stale: timedelta = STALE) -> None:
        self.collection = db[COLLECTION]
        self.owner = owner or _run_id()
        """This process run, written on each entry it receives (see the module docstring)."""
        self.stale = stale

    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes([
            IndexModel([("received_at", DESCENDING)], name="received_at"),
            IndexModel([("status", ASCENDING), ("received_at", DESCENDING)], name="status"),
            IndexModel([("control_id", ASCENDING)], name="control_id"),
        ])

    def entry(self, *, protocol: str, peer: str, raw: bytes, message_type: str | None = None,
              control_id: str | None = None, status: str = "received", detail: str | None = None,
              partner: dict[str, str] | None = None, charset: str | None = None) -> dict[str, Any]:
        """The journal document of a message just received, its ``_id`` chosen here (not yet written).

        ``partner``: who sent it as the message names itself (HL7 MSH-3/MSH-4, ASTM H.5) and from
        which address; ``charset``: how the bytes were read, when the protocol does not say it.
        """
        doc: dict[str, Any] = {"_id": ObjectId(), "protocol": protocol, "peer": peer, "raw": raw,
                               "received_at": now_utc(), "status": status, "message_type": message_type,
                               "control_id": control_id, "detail": detail, "owner": self.owner}
        if partner:
            doc["partner"] = partner
        if charset:
            doc["charset"] = charset
        return doc

    async def record(self, **fields: Any) -> ObjectId:
        """Write the raw message durably (the caller acknowledges only after this returned); ``fields`` as
        ``entry`` takes them."""
        return await self.write(self.entry(**fields))

    async def write(self, doc: dict[str, Any]) -> ObjectId:
        """Write an ``entry`` document durably, as it is."""
        await self.collection.insert_one(doc)
        return doc["_id"]  # type: ignore[no-any-return]

    async def settle(self, entry: ObjectId, status: str, detail: str | None = None,
                     produced: list[str] | None = None, *, session: StoreSession | None = None,
                     received: dict[str, Any] | None = None) -> None:
        """Record the outcome: what was created or updated (``Type/id``), or why it failed. With a
        ``session``, inside that transaction (``settlement.py``): it commits with the results.

        ``received``: the ``entry`` document when it may not have been written yet (a message whose
        handler journals it in its own transaction, ``settlement.py``): written with its outcome if absent."""
        update: dict[str, Any] = {"status": status, "settled_at": now_utc(), "detail": detail}
        if produced:
            update["produced"] = produced
        change: dict[str, Any] = {"$set": update}
        if received is not None:
            change["$setOnInsert"] = {k: v for k, v in received.items() if k not in update and k != "_id"}
        await self.collection.update_one({"_id": entry}, change, session=session, upsert=received is not None)
        log.info("inbound %s: %s%s", entry, status, f" ({detail})" if detail else "")

    async def write_settled(self, received: dict[str, Any], status: str, detail: str | None, produced: list[str],
                            session: StoreSession) -> None:
        """Write a not yet written ``entry`` document already settled, inside the caller's transaction: the
        raw message and what it produced commit together (one statement instead of an insert and an update)."""
        doc = {**received, "status": status, "settled_at": now_utc(), "detail": detail}
        if produced:
            doc["produced"] = produced
        await self.collection.insert_one(doc, session=session)
        log.info("inbound %s: %s%s", received["_id"], status, f" ({detail})" if detail else "")

    async def quarantine(self, raw: bytes, peer: str, reason: str, *, protocol: str) -> None:
        await self.record(protocol=protocol, peer=peer, raw=raw, status="quarantined", detail=reason)

    async def find(self, entry: ObjectId) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": entry})

    def abandoned(self, entry: dict[str, Any], now: datetime, stale: timedelta | None = None) -> bool:
        """Whether no live process is handling this ``received`` entry (see the module docstring)."""
        owner = entry.get("owner")
        if not owner or self.since(entry) < now.replace(tzinfo=None) - (stale or self.stale):
            return True
        host, _, rest = str(owner).partition(":")
        pid = rest.partition(":")[0]
        if host != socket.gethostname() or not pid.isdigit():
            return False
        if pid == self.owner.split(":")[1]:
            return str(owner) != self.owner  # an earlier run of this pid is gone; this run's own entries are in flight
        return not _pid_alive(int(pid))

    @staticmethod
    def since(entry: dict[str, Any]) -> datetime:
        """The last time a process took the entry: received, or claimed by a replay (naive UTC, as BSON gives it)."""
        taken: datetime = entry.get("replayed_at") or entry.get("received_at") or now_utc()
        return taken.replace(tzinfo=None)

    async def left_received(self, among: list[ObjectId] | None = None) -> list[dict[str, Any]]:
        """Entries never settled (the process or its database died while handling them), oldest first; ``among``:
        only those of these ids."""
        query: dict[str, Any] = {"status": "received"}
        if among is not None:
            query["_id"] = {"$in": among}
        return await self.collection.find(query, sort=[("received_at", ASCENDING)]).to_list()

    async def claim_left(self, stale: timedelta | None = None, among: list[ObjectId] | None = None
                         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The abandoned ``received`` entries (``among``: of these ids), each claimed for this process (a process
        racing for the same entry gets it only if it wins the atomic update), oldest first; and those left to live
        processes."""
        now, claimed, skipped = now_utc(), [], []
        for entry in await self.left_received(among):
            if not self.abandoned(entry, now, stale):
                skipped.append(entry)
                continue
            taken = await self.collection.find_one_and_update(
                {"_id": entry["_id"], "status": "received", "owner": entry.get("owner"),
                 "replayed_at": entry.get("replayed_at")},
                {"$set": {"owner": self.owner, "replayed_at": now}, "$inc": {"replays": 1}},
                return_document=ReturnDocument.AFTER)
            if taken is not None:
                claimed.append(taken)
        return claimed, skipped
