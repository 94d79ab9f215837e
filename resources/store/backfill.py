"""Search values of the parameters added after resources were stored, filled in once per database.

A parameter added to the table has no values in the documents written before it existed: for the meta
parameter ``_tag`` (issue 15) a ``:not`` search would take every older tagged resource for an untagged one (the
bench would list results already validated technically). At start-up, once per database (a marker in
``_migrations``), the documents whose resource carries a tag get their values; new writes extract them as usual.
A document rewritten meanwhile is left alone (the update names the version read), since its writer stored the
values itself.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.search.date import now_utc
from resources.search.extract import search_document
from resources.search.params import META_PARAMS, RESOURCE_TYPES

MIGRATIONS = "_migrations"
META_BACKFILL = "search-meta-params-1"
_ELEMENTS = ("r.meta.tag",)


async def backfill_meta_params(db: AsyncDatabase[Any]) -> int:
    """Fill ``s._tag`` where missing, once; how many documents were updated."""
    if await db[MIGRATIONS].find_one({"_id": META_BACKFILL}) is not None:
        return 0
    names = [p.name for p in META_PARAMS]
    updated = 0
    for rtype in RESOURCE_TYPES:
        found = db[rtype].find({"$or": [{e: {"$exists": True}} for e in _ELEMENTS]}, {"r": 1, "v": 1, "s": 1})
        async for doc in found:
            values, _, _ = search_document(doc["r"])
            changes = {f"s.{n}": values[n] for n in names if n in values and (doc.get("s") or {}).get(n) != values[n]}
            if changes:
                result = await db[rtype].update_one({"_id": doc["_id"], "v": doc["v"]}, {"$set": changes})
                updated += result.modified_count
    await db[MIGRATIONS].update_one({"_id": META_BACKFILL}, {"$set": {"done": now_utc(), "documents": updated}},
                                    upsert=True)
    return updated
