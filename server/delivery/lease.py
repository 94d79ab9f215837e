"""Leases: how several ``sgl serve`` processes on one database share a queue without doing an item twice.

An item (a document job, a delivery) is taken by writing ``lease_owner`` (this process's id) and
``lease_until`` (now + the lease) with one atomic ``find_one_and_update`` whose filter says "due and not
leased, or leased by someone whose lease ran out": of two processes racing for one item exactly one wins.
The holder finishes (or releases) the item with a filter on its own ``lease_owner``, so a holder whose lease
expired and was taken over cannot overwrite the new holder's outcome. After ``kill -9`` the dead process's
leases simply expire and another process (or the restarted one, with a new id) takes the items again.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from resources.search.date import now_utc
from resources.store.base import StoreSession

PENDING = "pending"


def process_owner() -> str:
    """A lease owner id unique to this process run (host, pid, random: a restarted pid is a new owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def available(now: datetime) -> dict[str, Any]:
    """Filter: pending, due, and not held by a live lease."""
    return {"state": PENDING, "due": {"$lte": now},
            "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}]}


class Leases:
    """Take, renew and give back items of one collection (documents with ``state``, ``due``, ``lease_*``)."""

    def __init__(self, collection: AsyncCollection[Any], owner: str, lease_seconds: float) -> None:
        self.collection, self.owner, self.lease = collection, owner, timedelta(seconds=lease_seconds)

    async def candidates(self, limit: int, extra: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Items that may be taken now, oldest due first (a hint: :meth:`take` decides)."""
        query = {**available(now_utc()), **(extra or {})}
        return [doc async for doc in self.collection.find(query).sort([("due", 1), ("_id", 1)]).limit(limit)]

    async def take(self, item_id: Any) -> dict[str, Any] | None:
        """Lease one item; ``None`` when another process took it first.

        ``takes`` counts the times the item was taken, this one included: more takes than recorded attempts
        means an earlier holder died (or lost its lease) mid-item, after it may have reached the partner."""
        now = now_utc()
        taken: dict[str, Any] | None = await self.collection.find_one_and_update(
            {"_id": item_id, **available(now)},
            {"$set": {"lease_owner": self.owner, "lease_until": now + self.lease, "taken": now}, "$inc": {"takes": 1}},
            return_document=ReturnDocument.AFTER)
        return taken

    def mine(self, item_id: Any) -> dict[str, Any]:
        """Filter of an item this process still holds."""
        return {"_id": item_id, "lease_owner": self.owner}

    async def give_back(self, item_id: Any, changes: Mapping[str, Any], *, push: Mapping[str, Any] | None = None,
                        session: StoreSession | None = None) -> bool:
        """End the lease with ``changes`` (new state, due, attempts...) and ``push`` (``{"history": entry}``);
        False when the lease was lost (expired and taken over, or the item re-pinned)."""
        update: dict[str, Any] = {"$set": {**changes, "lease_owner": None, "lease_until": None}}
        if push:
            update["$push"] = dict(push)
        done = await self.collection.update_one(self.mine(item_id), update, session=session)
        return done.matched_count == 1
