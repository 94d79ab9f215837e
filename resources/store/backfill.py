"""Stored values of what became indexed after resources were stored, filled in once per database.

A parameter added to the table has no values in the documents written before it existed. At start-up, once per
database (a marker in ``_migrations``), the documents concerned get their values; new writes extract them as
usual. A document rewritten meanwhile is left alone (the update names the version read), since its writer stored
the values itself.

- ``_tag`` (issue 15): without it a ``:not`` search would take every older tagged resource for an untagged one
  (the bench would list results already validated technically).
- Task ``subject``/``patient`` and the Patient references outside any parameter (``o``, ``search/links.py``):
  without them a merge would miss the duplicate's older Tasks and its references in ``focus``, ``contained`` or
  an extension.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.search import links
from resources.search.date import now_utc
from resources.search.extract import search_document
from resources.search.links import other_patient_references
from resources.search.params import META_PARAMS, RESOURCE_TYPES

MIGRATIONS = "_migrations"
META_BACKFILL = "search-meta-params-1"
LINKS_BACKFILL = "patient-links-1"


@dataclass(frozen=True)
class Backfill:
    marker: str
    types: tuple[str, ...]
    elements: tuple[str, ...]
    """Stored elements (``r.<path>``) of which one must exist for a document to be read at all; () reads all."""
    params: tuple[str, ...]
    """Search values (``s.<name>``) set from the current extraction."""
    patient_links: bool = False
    """Also set ``o`` (the Patient references no parameter indexes)."""


BACKFILLS = (
    Backfill(META_BACKFILL, RESOURCE_TYPES, ("r.meta.tag",), tuple(p.name for p in META_PARAMS)),
    Backfill(LINKS_BACKFILL, ("Task",), ("r.for",), ("subject",)),
    # a Patient reference outside the parameters may sit in any element (``contained``, an extension, ``focus``):
    # every document of the types a merge re-points is read, once
    Backfill(LINKS_BACKFILL, tuple(t for t in RESOURCE_TYPES if t not in links.NEVER_REPOINTED),
             (), (), patient_links=True),
)


async def _fill(db: AsyncDatabase[Any], fill: Backfill) -> int:
    updated = 0
    for rtype in fill.types:
        query = {"$or": [{e: {"$exists": True}} for e in fill.elements]} if fill.elements else {}
        found = db[rtype].find(query, {"r": 1, "v": 1, "s": 1, links.FIELD: 1})
        async for doc in found:
            values, _, _ = search_document(doc["r"])
            stored = doc.get("s") or {}
            changes: dict[str, Any] = {f"s.{n}": values[n] for n in fill.params
                                       if n in values and stored.get(n) != values[n]}
            others = other_patient_references(doc["r"], values) if fill.patient_links else []
            if others and doc.get(links.FIELD) != others:
                changes[links.FIELD] = others
            if changes:
                result = await db[rtype].update_one({"_id": doc["_id"], "v": doc["v"]}, {"$set": changes})
                updated += result.modified_count
    return updated


async def backfill_search_values(db: AsyncDatabase[Any]) -> int:
    """Run each backfill not yet marked done; how many documents were updated."""
    updated = 0
    for marker in dict.fromkeys(f.marker for f in BACKFILLS):
        if await db[MIGRATIONS].find_one({"_id": marker}) is not None:
            continue
        count = sum([await _fill(db, f) for f in BACKFILLS if f.marker == marker])
        await db[MIGRATIONS].update_one({"_id": marker}, {"$set": {"done": now_utc(), "documents": count}},
                                        upsert=True)
        updated += count
    return updated
