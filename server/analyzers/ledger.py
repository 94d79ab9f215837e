"""The result ledger: one document per result key, its ``_id`` the key, so the database itself refuses
a second copy of a measurement (the ``_id`` index is unique), not a read-then-insert.

``analyzer_results`` documents: ``{_id: key, fingerprint, observation: "Observation/<id>", versions}``.
They are written in the transaction that writes the Observations: two connections storing the same
result at once cannot both commit (the loser gets a duplicate key or a write conflict, its transaction
is run again and then finds the key). Refused results (worklist only) are keyed ``refused/...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from resources.store.base import StoreSession

COLLECTION = "analyzer_results"
DUPLICATE_KEY = 11000


@dataclass
class LedgerEntry:
    key: str
    fingerprint: str
    observation: str
    """``Observation/<id>`` holding the latest value, '' for a refused result's Task."""
    versions: int = 1


class ResultLedger:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.collection = db[COLLECTION]

    async def find(self, keys: list[str], session: StoreSession | None) -> dict[str, LedgerEntry]:
        out: dict[str, LedgerEntry] = {}
        for start in range(0, len(keys), 500):
            cursor = self.collection.find({"_id": {"$in": keys[start:start + 500]}}, session=session)
            async for doc in cursor:
                out[doc["_id"]] = LedgerEntry(doc["_id"], doc["fingerprint"], doc.get("observation", ""),
                                              doc.get("versions", 1))
        return out

    async def write(self, new: list[LedgerEntry], changed: list[LedgerEntry], session: StoreSession | None) -> None:
        """Insert the new keys (a concurrent copy makes this fail: the transaction is retried) and
        record the new fingerprint of the changed ones."""
        if new:
            try:
                await self.collection.insert_many(
                    [{"_id": e.key, "fingerprint": e.fingerprint, "observation": e.observation,
                      "versions": e.versions} for e in new], ordered=True, session=session)
            except BulkWriteError as exc:  # a key already stored: the caller's transaction runs again
                first = (exc.details.get("writeErrors") or [{}])[0]
                if first.get("code") != DUPLICATE_KEY:
                    raise
                raise DuplicateKeyError(first.get("errmsg", "result key already stored"), DUPLICATE_KEY,
                                        first) from exc
        for entry in changed:
            await self.collection.update_one(
                {"_id": entry.key}, {"$set": {"fingerprint": entry.fingerprint, "observation": entry.observation,
                                              "versions": entry.versions}}, session=session)
