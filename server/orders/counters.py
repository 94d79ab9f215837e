"""Lab counters that never repeat: accession numbers of specimens and requisition (dossier) numbers.

Each counter is one document of the ``counters`` collection, incremented with one atomic
``$inc`` (``find_one_and_update``). It runs outside the order's transaction on purpose: two
concurrent orders never conflict on it, and a number taken by an order that then fails is simply
skipped (a gap), never handed out twice.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from resources.errors import Conflict
from resources.store.indexes import LAB_ACCESSION_SYSTEM

COLLECTION = "counters"
ACCESSION = "accession"
REQUISITION = "requisition"
ACCESSION_SYSTEM = LAB_ACCESSION_SYSTEM  # unique per Specimen, enforced by the store's unique index
REQUISITION_SYSTEM = "https://opensgl.org/fhir/sid/requisition"
_WIDTH = 10
"""Ten digits: an even count keeps the Code 128 label short (code set C packs two digits a symbol)."""


async def take_numbers(db: AsyncDatabase[Any], counter: str, count: int) -> list[str]:
    """``count`` consecutive fresh numbers of ``counter``, zero-padded to ten digits."""
    if count <= 0:
        return []
    for _ in range(2):
        try:
            doc = await db[COLLECTION].find_one_and_update(
                {"_id": counter}, {"$inc": {"seq": count}}, upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            continue  # two first-ever increments raced on the upsert: the document exists now
        if doc is None:  # cannot happen with upsert and ReturnDocument.AFTER; retried like a race
            continue
        last = int(doc["seq"])
        return [str(n).zfill(_WIDTH) for n in range(last - count + 1, last + 1)]
    raise Conflict(f"counter {counter!r} could not be incremented; retry")
