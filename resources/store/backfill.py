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

How (issue 16): never a read of a whole collection: on the embedded database such a read is decoded whole in the
database's memory (a ``find({})`` of 100k directory resources took it to 1.3 GB and the upgrade failed). Each type
is read in windows of ``lu`` bounded at both ends (``windows.py``, a range of its index), from an origin back to
the past, then up to now, about ``TARGET`` documents a window; the position reached is written after each window,
so a start-up killed midway resumes there. It runs before the server answers, like before: a ``$merge`` or an
ADT^A40 finds the duplicate's resources through ``o`` and would silently miss some while it ran; it costs start-up
time once (50,000 Observations: 20 s) rather than a window where merges are wrong or refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.search import links
from resources.search.date import now_utc
from resources.search.extract import search_document
from resources.search.links import other_patient_references
from resources.search.params import META_PARAMS, RESOURCE_TYPES
from resources.store.windows import FLOOR, MIN_WIDTH, TARGET, Window, walk_back, walk_forward

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


class Progress:
    """Where each type's walk is, kept in the backfill's marker document (``at.<key>``) after every window, so a
    start-up killed midway resumes at the last window it finished; deleting the marker starts again."""

    def __init__(self, db: AsyncDatabase[Any], marker: str) -> None:
        self.db = db
        self.marker = marker

    async def position(self, key: str) -> datetime | None:
        doc = await self.db[MIGRATIONS].find_one({"_id": self.marker}, {f"at.{key}": 1})
        at = ((doc or {}).get("at") or {}).get(key)
        return at if isinstance(at, datetime) else None

    async def advance(self, key: str, at: datetime, updated: int) -> None:
        await self.db[MIGRATIONS].update_one({"_id": self.marker},
                                             {"$set": {f"at.{key}": at}, "$inc": {"documents": updated}},
                                             upsert=True)


def _has_element(doc: dict[str, Any], element: str) -> bool:
    node: Any = doc
    for part in element.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _changes(fill: Backfill, doc: dict[str, Any]) -> dict[str, Any]:
    if fill.elements and not any(_has_element(doc, e) for e in fill.elements):
        return {}
    values, _, _ = search_document(doc["r"])
    stored = doc.get("s") or {}
    changes: dict[str, Any] = {f"s.{n}": values[n] for n in fill.params if n in values and stored.get(n) != values[n]}
    others = other_patient_references(doc["r"], values) if fill.patient_links else []
    if others and doc.get(links.FIELD) != others:
        changes[links.FIELD] = others
    return changes


async def _origin(db: AsyncDatabase[Any], marker: str) -> datetime:
    """Where the walks start: the earliest date the ``_migrations`` markers hold (a database created by a version
    with markers has its documents after it; an older one was in use up to it, so windows sized from the
    documents just before it grow into the quiet past), kept in the marker so that a resumed run uses it again."""
    doc = await db[MIGRATIONS].find_one({"_id": marker}, {"origin": 1})
    if doc is not None and isinstance(doc.get("origin"), datetime):
        return doc["origin"]  # type: ignore[no-any-return]
    dates = [d["done"] for d in await db[MIGRATIONS].find({}, {"done": 1}).to_list(1000)
             if isinstance(d.get("done"), datetime)]
    origin = max(FLOOR, min(dates, default=now_utc()))
    await db[MIGRATIONS].update_one({"_id": marker}, {"$set": {"origin": origin}}, upsert=True)
    return origin


async def _apply(db: AsyncDatabase[Any], fill: Backfill, rtype: str, window: Window) -> int:
    """The window's documents given their missing values (an element filter such as ``$exists`` would not be
    indexed, so it is applied here, not in the read); how many were updated."""
    written = 0
    for doc in window.documents:
        changes = _changes(fill, doc)
        if changes:
            result = await db[rtype].update_one({"_id": doc["_id"], "v": doc["v"]}, {"$set": changes})
            written += result.modified_count
    return written


async def _fill_type(db: AsyncDatabase[Any], fill: Backfill, rtype: str, progress: Progress, key: str,
                     origin: datetime, target: int) -> int:
    """Walk ``rtype`` from ``origin`` back to the past, then from ``origin`` up to now, window by window,
    recording the position after each window."""
    if await db[rtype].estimated_document_count() == 0:
        return 0
    updated = 0
    read = {"r": 1, "v": 1, "s": 1, links.FIELD: 1}
    past = await progress.position(f"{key}-past") or origin
    async for window in walk_back(db[rtype], "lu", past, target=target, projection=read):
        written = await _apply(db, fill, rtype, window)
        updated += written
        await progress.advance(f"{key}-past", window.low, written)
    since = await progress.position(f"{key}-since") or origin
    end = now_utc() + MIN_WIDTH  # later writes store their own values
    async for window in walk_forward(db[rtype], "lu", since, end, target=target, projection=read):
        written = await _apply(db, fill, rtype, window)
        updated += written
        await progress.advance(f"{key}-since", window.high, written)
    return updated


async def backfill_search_values(db: AsyncDatabase[Any], *, target: int = TARGET) -> int:
    """Run each backfill not yet marked done; how many documents were updated (by this run)."""
    updated = 0
    for marker in dict.fromkeys(f.marker for f in BACKFILLS):
        if (await db[MIGRATIONS].find_one({"_id": marker, "done": {"$exists": True}})) is not None:
            continue
        origin = await _origin(db, marker)
        progress = Progress(db, marker)
        for n, fill in enumerate(f for f in BACKFILLS if f.marker == marker):
            for rtype in fill.types:
                updated += await _fill_type(db, fill, rtype, progress, f"{n}-{rtype}", origin, target)
        await db[MIGRATIONS].update_one({"_id": marker}, {"$set": {"done": now_utc()}}, upsert=True)
    return updated
