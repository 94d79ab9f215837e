"""The partner registry in MongoDB, read by the listeners through a short-lived cache.

``sgl partners add/remove`` write the ``partners`` collection directly (with or without a running
server); a running server re-reads the whole (small) list at most every ``CACHE_SECONDS``, so a
change takes effect within a second without a restart. Two partners cannot claim the same HL7
sender (MSH-3 + MSH-4) or ASTM sender: unique indexes refuse the second one.

Each registration has a ``version`` (1 when added, +1 at each change; absent on partners registered
before versions existed, read as 1): a change names the version it was made on, so two administrators
editing one partner from stale pages do not overwrite each other (the second gets 412).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from resources.errors import Conflict, NotFound, PreconditionFailed
from server.partners.model import Partner

COLLECTION = "partners"
CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class Identified:
    """The partner a message comes from, or why none could be admitted."""

    partner: Partner | None
    reason: str = ""


def _keys(partner: Partner) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    if partner.hl7_application:
        keys["hl7_key"] = f"{partner.hl7_application}|{partner.hl7_facility or ''}"
    if partner.astm_sender:
        keys["astm_key"] = partner.astm_sender
    return keys


class PartnerRegistry:
    def __init__(self, db: AsyncDatabase[Any], *, cache_seconds: float = CACHE_SECONDS) -> None:
        self.collection = db[COLLECTION]
        self.cache_seconds = cache_seconds
        self._cache: tuple[float, list[Partner]] | None = None

    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes([
            IndexModel([("hl7_key", ASCENDING)], name="hl7_key", unique=True, sparse=True),
            IndexModel([("astm_key", ASCENDING)], name="astm_key", unique=True, sparse=True),
        ])

    async def add(self, partner: Partner) -> None:
        await self.ensure_indexes()
        try:
            await self.collection.insert_one({**partner.to_document(), **_keys(partner), "version": 1})
        except DuplicateKeyError as exc:
            raise Conflict(f"a partner named {partner.name!r}, or another partner with the same HL7 or ASTM "
                           f"sender, is already registered ({exc.details or exc})") from exc
        self._cache = None

    async def remove(self, name: str) -> None:
        if (await self.collection.delete_one({"_id": name})).deleted_count == 0:
            raise NotFound(f"no partner named {name!r}")
        self._cache = None

    async def versions(self) -> list[tuple[Partner, int]]:
        """Every partner with its registration version, by name."""
        return [(Partner.from_document(doc), int(doc.get("version") or 1))
                async for doc in self.collection.find({}).sort("_id", ASCENDING)]

    async def amend(self, name: str, expected: int | None, change: Callable[[Partner], Partner]) -> tuple[Partner, int]:
        """``change`` applied to the partner as registered (its checks run on the result: nothing is written when
        they refuse it), stored as the next version; 412 when ``expected`` is not the stored version or another
        change got in first, 404 when unknown. The senders (MSH-3/4, ASTM H-5) do not change here."""
        doc = await self.collection.find_one({"_id": name})
        if doc is None:
            raise NotFound(f"no partner named {name!r}")
        version = int(doc.get("version") or 1)
        if expected is not None and expected != version:
            raise PreconditionFailed(f"partner {name} is at version {version}, not {expected}: it changed since you "
                                     "opened it; read it again", expression="If-Match")
        changed = change(Partner.from_document(doc))
        fields = {k: v for k, v in changed.to_document().items() if k != "_id"}
        current = {"_id": name, "version": version if "version" in doc else {"$exists": False}}
        done = await self.collection.update_one(current, {"$set": {**fields, "version": version + 1}})
        if done.matched_count == 0:
            raise PreconditionFailed(f"partner {name} changed meanwhile; read it again", expression="If-Match")
        self._cache = None
        return changed, version + 1

    async def all(self) -> list[Partner]:
        return [Partner.from_document(doc) async for doc in self.collection.find({}).sort("_id", ASCENDING)]

    async def _current(self) -> list[Partner]:
        now = time.monotonic()
        if self._cache is None or now - self._cache[0] > self.cache_seconds:
            self._cache = (now, await self.all())
        return self._cache[1]

    async def identify_hl7(self, application: str, facility: str, address: str) -> Identified:
        """The partner of MSH-3/MSH-4 sent from ``address`` (a facility-specific entry first)."""
        named = [p for p in await self._current() if p.hl7_application and p.hl7_application == application
                 and (p.hl7_facility is None or p.hl7_facility == facility)]
        named.sort(key=lambda p: p.hl7_facility is None)
        return _from_address(named, address, f"HL7 sender {application or '(empty MSH-3)'}"
                                             f"{'/' + facility if facility else ''}")

    async def identify_astm(self, sender: str, address: str) -> Identified:
        named = [p for p in await self._current() if p.astm_sender and p.astm_sender == sender]
        return _from_address(named, address, f"ASTM sender {sender or '(empty H-5)'}")


def _from_address(named: list[Partner], address: str, who: str) -> Identified:
    if not named:
        return Identified(None, f"{who} is not a registered partner of this laboratory (sgl partners add)")
    for partner in named:
        if partner.from_address(address):
            return Identified(partner)
    return Identified(None, f"{who} is registered as partner {named[0].name} but not from address {address}")
