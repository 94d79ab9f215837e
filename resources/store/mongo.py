"""The FHIR store on MongoDB (PyMongo async API).

Per resource type, ``<Type>`` holds the current version and ``<Type>_history`` the versions that are
no longer current: a version is copied there when an update supersedes it or a deletion ends it (with
the deletion marker). A create therefore writes one document, not two (the history copy of every
first version cost about as much as the resource itself, for the many resources never changed), and
a history read or a vread merges both collections. Databases written before this keep every version
in history, the current one included: merging drops the copy. A write is one document operation on
``<Type>`` conditioned on the version it expects (optimistic concurrency). A no-op update (same content
hash) makes no version.

The writes of the types named in ``revisioned`` are counted (``_revisions``, one counter per type,
bumped in the write's own session after the write): ``revision`` reads those counters in one small
query, so a reader that caches what it built from these types (the analysis catalogue) knows when to
build it again without reading them all.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, OperationFailure, PyMongoError

from resources.errors import Conflict, Gone, InvalidInput, NotFound, PreconditionFailed, WriteConflict
from resources.fhirjson import content_hash, instant
from resources.search import cursor as keyset
from resources.search import links, reference
from resources.search.clause import conjoin
from resources.search.date import now_utc
from resources.search.extract import search_document, sort_key
from resources.search.links import other_patient_references
from resources.search.params import RESOURCE_TYPES
from resources.search.query import Include, SearchRequest
from resources.store.backfill import backfill_search_values
from resources.store.base import HistoryPage, SearchPage, Stored, StoreSession
from resources.store.chain import CHAINED, LINKS, new_link
from resources.store.decimals import to_bson
from resources.store.index_build import create_new_indexes
from resources.store.indexes import (
    UNIQUE_IDENTIFIERS,
    Engine,
    current_indexes,
    history_indexes,
    left_out_compounds,
    unique_indexes,
    unique_keys,
)

log = logging.getLogger(__name__)
_WRITE_RETRIES = 5
_INDEX_NOT_FOUND = 27
CLAIMS = "_claims"
"""Claim documents of conditional creates (not a FHIR type: no route can read it)."""
MAX_INCLUDED = 1000
RECHECK_BATCH_MAX = 2000
"""The largest batch a search with re-checks reads at once (documents with their resource: bounded memory)."""
REVISIONS = "_revisions"
"""Write counters of the ``revisioned`` types (not a FHIR type: no route can read it)."""


def _stamp(resource: dict[str, Any], vid: int, lu: datetime) -> dict[str, Any]:
    out = dict(resource)
    meta = dict(out.get("meta") or {})
    meta["versionId"] = str(vid)
    meta["lastUpdated"] = instant(lu)
    out["meta"] = meta
    return out


class DuplicateConflict(Conflict, DuplicateKeyError):
    """A unique index refused the write: a 409 for the HTTP layer, and still the driver's
    ``DuplicateKeyError`` for callers that retry on it (the analyzer ingestion does)."""

    def __init__(self, diagnostics: str, cause: DuplicateKeyError, expression: str | None = None) -> None:
        Conflict.__init__(self, diagnostics, expression=expression)  # first: its super() chain resets the driver part
        DuplicateKeyError.__init__(self, str(cause), cause.code, cause.details)


class TransactionConflict(WriteConflict, OperationFailure):
    """The database aborted the transaction for a concurrent one: ``WriteConflict`` for the interactions,
    and still an ``OperationFailure`` labelled ``TransientTransactionError`` for callers that retry on it."""

    def __init__(self, cause: PyMongoError) -> None:
        WriteConflict.__init__(self, "a concurrent transaction changed the same data; retry")  # first, as above
        OperationFailure.__init__(self, str(cause), getattr(cause, "code", None),
                                  {"errorLabels": ["TransientTransactionError"]})


def _stored_of(rtype: str, doc: dict[str, Any]) -> Stored:
    """The version a current document holds (``m`` missing in documents written before it was kept)."""
    method = doc.get("m") or ("POST" if doc["v"] == 1 else "PUT")
    return Stored(rtype, doc["_id"], doc["v"], doc["lu"], doc["r"], method)


def _history_key(stored: Stored) -> str:
    """The type-history sort key of a version, as ``_history_document`` stores it."""
    return sort_key(instant(stored.last_updated), f"{stored.id}/{stored.vid}")


def _duplicate(rtype: str, exc: DuplicateKeyError) -> DuplicateConflict:
    """A unique index refused the write: name the identifier already taken, or the id created concurrently."""
    details = exc.details or {}
    value = details.get("keyValue") or {}
    field = next(iter(details.get("keyPattern") or value or {"_id": 1}))
    if field.startswith("u."):
        element = UNIQUE_IDENTIFIERS.get(rtype, {}).get(field[2:], (field[2:], ""))[0]
        return DuplicateConflict(f"{rtype}.{element} {value.get(field)!r} is already used by another {rtype}", exc,
                                 expression=f"{rtype}.{element}")
    return DuplicateConflict(f"{rtype}/{value.get('_id', '?')} was created concurrently; retry", exc)


def _once(included: list[dict[str, Any]], matched: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """Each included resource once, and none that is already a match (two include paths may reach it)."""
    seen = set(matched)
    out = []
    for resource in included:
        key = (resource["resourceType"], resource["id"])
        if key not in seen:
            seen.add(key)
            out.append(resource)
    return out


class MongoFhirStore:
    def __init__(self, db: AsyncDatabase[Any], *, transactions: bool = True, revisioned: Collection[str] = (),
                 engine: Engine = "mongodb") -> None:
        """``engine``: the database behind ``db``, as the wiring knows it (it chooses the index set; by default
        the one valid on MongoDB, which the embedded database accepts too)."""
        self.db = db
        self.engine: Engine = engine
        self.client = db.client
        self.transactions = transactions
        self.revisioned = frozenset(revisioned)

    async def _counted(self, rtype: str, session: StoreSession | None) -> None:
        """Bump ``rtype``'s write counter, after its write: in a transaction both commit together; outside
        one, a reader that saw the old count may have read the new content, and reads again next time."""
        if rtype in self.revisioned:
            await self.db[REVISIONS].update_one({"_id": rtype}, {"$inc": {"n": 1}}, upsert=True, session=session)

    async def revision(self, resource_types: Collection[str], *, session: StoreSession | None = None) -> int:
        """How many writes of these types the store counted (only ``revisioned`` types are): it grows at
        every create, update that changes content and delete of one of them. One small read."""
        uncounted = set(resource_types) - self.revisioned
        if uncounted:
            raise ValueError(f"writes of {sorted(uncounted)} are not counted by this store")
        docs = await self.db[REVISIONS].find({"_id": {"$in": sorted(resource_types)}}, session=session).to_list()
        return sum(int(d.get("n", 0)) for d in docs)

    async def written_since(self, resource_type: str, since: datetime) -> dict[str, datetime]:
        """Two single-field index range reads: ``lu`` of the current documents, and ``k`` (which starts with the
        instant) of history, where a deletion leaves its marker; a version an update superseded is there too,
        under its own time, so it is listed only if it was itself written after ``since``."""
        current = await self.db[resource_type].find({"lu": {"$gt": since}}, projection={"v": 1, "lu": 1}).to_list()
        past = await self.db[f"{resource_type}_history"].find({"k": {"$gt": instant(since)}},
                                                               projection={"i": 1, "v": 1, "lu": 1}).to_list()
        written = {f"{d['i']}/{d['v']}": d["lu"] for d in past if d["lu"] > since}
        written.update({f"{d['_id']}/{d['v']}": d["lu"] for d in current})
        return written

    async def ensure_indexes(self) -> None:
        """Create every collection's indexes (idempotent) so that no supported search scans."""
        for rtype in RESOURCE_TYPES:
            await create_new_indexes(self.db[rtype], current_indexes(rtype, engine=self.engine))
            await self._drop_left_out(rtype)
            await create_new_indexes(self.db[f"{rtype}_history"], history_indexes())
            for unique in unique_indexes(rtype):
                try:
                    await self.db[rtype].create_indexes([unique])
                except OperationFailure as exc:  # stored duplicates: say so, serve anyway
                    log.error("%s: unique index %s not created (duplicates are stored: %s)",
                              rtype, unique.document["name"], exc)
        await self.db[LINKS].create_index("seq")
        await self.db[LINKS].create_index([("at", 1), ("_id", 1)])
        await backfill_search_values(self.db)  # once per database: documents stored before a value was indexed

    async def _drop_left_out(self, rtype: str) -> None:
        """Drop the compounds this engine must not have that an earlier version created (``left_out_compounds``)."""
        left_out = left_out_compounds(rtype, self.engine)
        if not left_out:
            return
        for name in sorted(left_out & set(await self.db[rtype].index_information())):
            log.warning("%s: dropping index %s (two array fields: MongoDB refuses documents under it)", rtype, name)
            try:
                await self.db[rtype].drop_index(name)
            except OperationFailure as exc:
                if exc.code != _INDEX_NOT_FOUND:  # another process starting on the same database dropped it first
                    raise

    # -- writes -------------------------------------------------------------------------------
    def _document(self, resource: dict[str, Any], vid: int, lu: datetime, digest: str,
                  method: str = "PUT") -> dict[str, Any]:
        s, x, k = search_document(resource)
        k["_lastUpdated"] = sort_key(instant(lu), resource["id"])
        doc = {"_id": resource["id"], "r": to_bson(resource), "v": vid, "lu": lu, "h": digest, "s": s, "x": x, "k": k,
               "m": method}
        unique = unique_keys(resource)
        if unique:
            doc["u"] = unique
        others = other_patient_references(resource, s)
        if others:
            doc[links.FIELD] = others
        return doc

    @staticmethod
    def _history_document(stored: Stored) -> dict[str, Any]:
        return {"_id": f"{stored.id}/{stored.vid}", "i": stored.id, "v": stored.vid, "lu": stored.last_updated,
                "k": _history_key(stored), "m": stored.method, "r": to_bson(stored.resource)}

    async def _append_history(self, rtype: str, stored: Stored, session: StoreSession | None) -> None:
        await self.db[f"{rtype}_history"].insert_one(self._history_document(stored), session=session)

    async def _supersede(self, rtype: str, current: dict[str, Any], session: StoreSession | None) -> None:
        """Copy the version ``current`` (a current document) into history: it is being replaced or deleted.
        An upsert, since a database written before history-on-supersede already holds it."""
        previous = _stored_of(rtype, current)
        doc = self._history_document(previous)
        await self.db[f"{rtype}_history"].update_one({"_id": doc.pop("_id")}, {"$setOnInsert": doc}, upsert=True,
                                                     session=session)

    async def create(self, resource: dict[str, Any], *, session: StoreSession | None = None,
                     rid: str | None = None) -> Stored:
        """Store version 1 under a new id (``rid`` when a transaction assigned it beforehand)."""
        rtype = resource["resourceType"]
        rid = rid or str(uuid.uuid4())
        lu = now_utc()
        body = _stamp({**resource, "id": rid}, 1, lu)
        try:
            await self.db[rtype].insert_one(self._document(body, 1, lu, content_hash(body), "POST"), session=session)
        except DuplicateKeyError as exc:
            raise _duplicate(rtype, exc) from exc
        stored = Stored(rtype, rid, 1, lu, body, "POST")
        if rtype in CHAINED:
            await self.db[LINKS].insert_one(new_link(body, lu), session=session)
        await self._counted(rtype, session)
        return stored

    async def create_many(self, resources: list[tuple[dict[str, Any], str | None]], *,
                          session: StoreSession | None = None) -> list[Stored]:
        """Version 1 of many resources in one bulk write per type: what a message of 20 analyzer results
        costs is then one round trip, not twenty. ``(resource, rid)`` pairs."""
        by_type, stored = self._first_versions(resources)
        for rtype, docs in by_type.items():
            try:
                await self.db[rtype].insert_many(docs, ordered=True, session=session)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors") or [{}]
                raise _duplicate(rtype, DuplicateKeyError(errors[0].get("errmsg", ""), 11000, errors[0])) from exc
            if rtype in CHAINED:
                await self.db[LINKS].insert_many([new_link(d["r"], d["lu"]) for d in docs], ordered=True,
                                                 session=session)
            await self._counted(rtype, session)
        return stored

    def _first_versions(self, resources: list[tuple[dict[str, Any], str | None]]
                        ) -> tuple[dict[str, list[dict[str, Any]]], list[Stored]]:
        """The stored documents of version 1 of ``resources``, by type, and what each create returns."""
        lu = now_utc()
        stored: list[Stored] = []
        by_type: dict[str, list[dict[str, Any]]] = {}
        for resource, rid in resources:
            rtype = resource["resourceType"]
            body = _stamp({**resource, "id": rid or str(uuid.uuid4())}, 1, lu)
            by_type.setdefault(rtype, []).append(self._document(body, 1, lu, content_hash(body), "POST"))
            stored.append(Stored(rtype, body["id"], 1, lu, body, "POST"))
        return by_type, stored

    async def create_missing(self, resources: list[dict[str, Any]]) -> set[str]:
        """Version 1 of each of ``resources`` (one type, ids given) whose id is not stored yet, in one unordered
        bulk insert: a bulk load into an empty collection writes without reading first. Returns the ids that
        were already stored (left as they are: the caller compares those). Not for the chained types."""
        by_type, _ = self._first_versions([(r, r["id"]) for r in resources])
        if not by_type:
            return set()
        (rtype, docs), = by_type.items()
        if rtype in CHAINED:
            raise ValueError(f"{rtype} writes go through the audit chain, not create_missing")
        present: set[str] = set()
        try:
            await self.db[rtype].insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            other = [e for e in errors if e.get("code") != 11000 or "_id" not in (e.get("keyPattern") or {"_id": 1})]
            if other and other[0].get("code") == 11000:  # another unique identifier taken
                raise _duplicate(rtype, DuplicateKeyError(other[0].get("errmsg", ""), 11000, other[0])) from exc
            if other:
                raise
            present = {docs[e["index"]]["_id"] for e in errors}
        if len(present) < len(docs):
            await self._counted(rtype, None)
        return present

    async def _last_history_version(self, rtype: str, rid: str, session: StoreSession | None) -> dict[str, Any] | None:
        return await self.db[f"{rtype}_history"].find_one(
            {"i": rid}, sort=[("v", DESCENDING)], projection={"v": 1, "m": 1, "lu": 1}, session=session)

    async def update(self, resource: dict[str, Any], *, expected_vid: int | None = None,
                     session: StoreSession | None = None) -> tuple[Stored, bool]:
        rtype, rid = resource["resourceType"], resource["id"]
        coll = self.db[rtype]
        for _ in range(_WRITE_RETRIES):
            current = await coll.find_one({"_id": rid}, projection={"v": 1, "h": 1, "r": 1, "lu": 1, "m": 1},
                                          session=session)
            if current is None:
                return await self._create_with_id(resource, expected_vid, session), True
            if expected_vid is not None and current["v"] != expected_vid:
                raise PreconditionFailed(f"{rtype}/{rid} is at version {current['v']}, not {expected_vid}",
                                         expression="If-Match")
            digest = content_hash(resource)
            if digest == current["h"]:
                return Stored(rtype, rid, current["v"], current["lu"], current["r"], "PUT"), False
            vid, lu = current["v"] + 1, now_utc()
            body = _stamp(resource, vid, lu)
            try:
                result = await coll.replace_one({"_id": rid, "v": current["v"]},
                                                self._document(body, vid, lu, digest), session=session)
            except DuplicateKeyError as exc:
                raise _duplicate(rtype, exc) from exc
            if result.matched_count == 1:
                await self._supersede(rtype, {**current, "_id": rid}, session)
                await self._counted(rtype, session)
                return Stored(rtype, rid, vid, lu, body, "PUT"), False
            if expected_vid is not None:
                raise PreconditionFailed(f"{rtype}/{rid} changed since version {expected_vid}",
                                         expression="If-Match")
        raise Conflict(f"{rtype}/{rid} is being updated concurrently; retry")

    async def _create_with_id(self, resource: dict[str, Any], expected_vid: int | None,
                              session: StoreSession | None) -> Stored:
        rtype, rid = resource["resourceType"], resource["id"]
        last = await self._last_history_version(rtype, rid, session)
        vid = last["v"] + 1 if last else 1
        if expected_vid is not None and expected_vid != (last["v"] if last else 0):
            raise PreconditionFailed(f"{rtype}/{rid} does not exist at version {expected_vid}",
                                     expression="If-Match")
        lu = now_utc()
        body = _stamp(resource, vid, lu)
        try:
            await self.db[rtype].insert_one(self._document(body, vid, lu, content_hash(body)), session=session)
        except DuplicateKeyError as exc:
            raise _duplicate(rtype, exc) from exc
        await self._counted(rtype, session)
        return Stored(rtype, rid, vid, lu, body, "PUT")

    async def delete(self, resource_type: str, id: str, *, expected_vid: int | None = None,
                     session: StoreSession | None = None) -> Stored | None:
        coll = self.db[resource_type]
        current = await coll.find_one({"_id": id}, projection={"v": 1, "r": 1, "lu": 1, "m": 1}, session=session)
        if current is None:
            return None
        if expected_vid is not None and current["v"] != expected_vid:
            raise PreconditionFailed(f"{resource_type}/{id} is at version {current['v']}, not {expected_vid}",
                                     expression="If-Match")
        result = await coll.delete_one({"_id": id, "v": current["v"]}, session=session)
        if result.deleted_count != 1:
            raise Conflict(f"{resource_type}/{id} changed while being deleted; retry")
        await self._supersede(resource_type, current, session)
        stored = Stored(resource_type, id, current["v"] + 1, now_utc(), None, "DELETE")
        await self._append_history(resource_type, stored, session)
        await self._counted(resource_type, session)
        return stored

    # -- reads --------------------------------------------------------------------------------
    async def read(self, resource_type: str, id: str, *, session: StoreSession | None = None) -> Stored:
        doc = await self.db[resource_type].find_one({"_id": id}, projection={"r": 1, "v": 1, "lu": 1},
                                                    session=session)
        if doc is not None:
            return Stored(resource_type, id, doc["v"], doc["lu"], doc["r"])
        last = await self._last_history_version(resource_type, id, session)
        if last is not None and last["m"] == "DELETE":
            raise Gone(f"{resource_type}/{id} was deleted at version {last['v']}")
        raise NotFound(f"{resource_type}/{id} does not exist")

    async def present(self, resource_type: str, ids: Collection[str], *,
                      session: StoreSession | None = None) -> set[str]:
        if not ids:
            return set()
        docs = await self.db[resource_type].find({"_id": {"$in": sorted(ids)}}, projection={"_id": 1},
                                                 session=session).to_list()
        return {d["_id"] for d in docs}

    async def versions_present(self, resource_type: str, versions: Collection[tuple[str, int]], *,
                               session: StoreSession | None = None) -> set[tuple[str, int]]:
        """The current documents at those versions, then history (where a superseded version was copied)."""
        if not versions:
            return set()
        current = await self.db[resource_type].find({"_id": {"$in": sorted({i for i, _ in versions})}},
                                                    projection={"v": 1}, session=session).to_list()
        found = {(d["_id"], d["v"]) for d in current} & set(versions)
        rest = sorted(f"{i}/{v}" for i, v in set(versions) - found)
        if rest:
            past = await self.db[f"{resource_type}_history"].find(
                {"_id": {"$in": rest}, "m": {"$ne": "DELETE"}}, projection={"i": 1, "v": 1}, session=session).to_list()
            found |= {(d["i"], d["v"]) for d in past}
        return found

    async def vread(self, resource_type: str, id: str, vid: int) -> Stored:
        doc = await self.db[f"{resource_type}_history"].find_one({"_id": f"{id}/{vid}"})
        if doc is None:
            current = await self.db[resource_type].find_one({"_id": id, "v": vid},
                                                            projection={"r": 1, "v": 1, "lu": 1, "m": 1})
            if current is None:
                raise NotFound(f"{resource_type}/{id} has no version {vid}")
            return _stored_of(resource_type, current)
        if doc["m"] == "DELETE":
            raise Gone(f"version {vid} of {resource_type}/{id} is its deletion")
        return Stored(resource_type, id, vid, doc["lu"], doc["r"], doc["m"])

    async def history(self, resource_type: str, id: str | None, *, count: int,
                      cursor: str | None = None) -> HistoryPage:
        """Newest first: an instance by version number, a type by (time, id/version) packed in ``k``.

        The superseded versions come from ``<Type>_history`` and the current ones from ``<Type>``, each
        read in the same order after the cursor, then merged (a version found in both is listed once)."""
        sort = ("v", -1) if id is not None else ("k", -1)
        last = keyset.decode(cursor) if cursor else None
        flt: dict[str, Any] = {"i": id} if id is not None else {}
        if last is not None:
            flt.update(keyset.after(sort, last))
        docs = await self.db[f"{resource_type}_history"].find(flt, sort=[sort], limit=count + 1).to_list()
        entries = {(d["i"], d["v"]): (d["v"] if id is not None else d["k"],
                                      Stored(resource_type, d["i"], d["v"], d["lu"], d["r"], d["m"])) for d in docs}
        for current in await self._current_for_history(resource_type, id, count, last):
            stored = _stored_of(resource_type, current)
            key = stored.vid if id is not None else _history_key(stored)
            if last is None or key < last:  # type: ignore[operator]
                entries.setdefault((stored.id, stored.vid), (key, stored))
        ordered = sorted(entries.values(), key=lambda e: e[0], reverse=True)[:count + 1]
        if id is not None and not ordered and not cursor:
            raise NotFound(f"{resource_type}/{id} has no history")
        nxt = keyset.encode(ordered[count - 1][0]) if len(ordered) > count else None
        return HistoryPage([e[1] for e in ordered[:count]], nxt)

    async def _current_for_history(self, rtype: str, id: str | None, count: int,
                                   last: str | int | None) -> list[dict[str, Any]]:
        """The current documents that may come after ``last`` in a history page (a superset: the caller
        compares the exact key). A current key ``time|id`` sorts just before its history key ``time|id/v``."""
        projection = {"r": 1, "v": 1, "lu": 1, "m": 1}
        if id is not None:
            flt: dict[str, Any] = {"_id": id} | ({"v": {"$lt": last}} if last is not None else {})
            return await self.db[rtype].find(flt, projection=projection).to_list()
        flt = {"k._lastUpdated": {"$lt": last}} if last is not None else {}
        return await self.db[rtype].find(flt, projection=projection, sort=[("k._lastUpdated", DESCENDING)],
                                         limit=count + 1).to_list()

    async def search_ids(self, request: SearchRequest, *, limit: int, session: StoreSession | None = None) -> list[str]:
        docs = await self._matching(request, request.filter, {"_id": 1}, limit, session)
        return [d["_id"] for d in docs]

    async def _matching(self, request: SearchRequest, flt: dict[str, Any], projection: dict[str, Any],
                        limit: int, session: StoreSession | None) -> list[dict[str, Any]]:
        """Up to ``limit`` documents in sort order that pass the element-range re-checks.

        Without re-checks this is one query. With them, batches continue after the last document
        examined until ``limit`` passed or nothing is left, so a page is never short by mistake. Each
        batch is four times the last (up to ``RECHECK_BATCH_MAX``): a re-check that rejects most of a wide
        range (``name=mar&name=jea``) costs a few queries, not one per 50 documents of the range.
        """
        coll = self.db[request.resource_type]
        sort = request.sort
        if not request.checked:
            return await coll.find(flt, projection=projection, sort=[sort], limit=limit, session=session).to_list()
        fields = {r.field for c in request.checked for r in c.element_check}
        projection = {**projection, **dict.fromkeys(fields, 1), sort[0]: 1}
        out: list[dict[str, Any]] = []
        batch_filter = flt
        size = max(limit * 2, 50)
        while len(out) < limit:
            batch = await coll.find(batch_filter, projection=projection, sort=[sort], limit=size,
                                    session=session).to_list()
            out += [d for d in batch if all(c.holds(d) for c in request.checked)]
            if len(batch) < size:
                break
            batch_filter = conjoin(flt, keyset.after(sort, keyset.key_of(batch[-1], sort[0])))
            size = max(size, min(size * 4, RECHECK_BATCH_MAX))
        return out[:limit]

    async def search(self, request: SearchRequest, *, session: StoreSession | None = None) -> SearchPage:
        coll = self.db[request.resource_type]
        if request.summary_count and not request.checked:
            return SearchPage([], total=await coll.count_documents(request.filter, session=session))
        if request.summary_count:
            return SearchPage([], total=len(await self.search_ids(request, limit=10**9, session=session)))
        flt = request.filter
        if request.cursor:
            flt = conjoin(flt, keyset.after(request.sort, keyset.decode(request.cursor)))
        projection = {"r": 1, request.sort[0]: 1, **{f"s.{i.param}": 1 for i in request.includes}}
        docs = await self._matching(request, flt, projection, request.count + 1, session)
        more = len(docs) > request.count
        docs = docs[: request.count]
        page = SearchPage([d["r"] for d in docs])
        if more:
            page.next_cursor = keyset.encode(keyset.key_of(docs[-1], request.sort[0]))
        if not more and not request.cursor:
            page.total = len(docs)
        elif request.total:
            page.total = (await coll.count_documents(request.filter, session=session) if not request.checked
                          else len(await self.search_ids(request, limit=10**9, session=session)))
        page.included = await self._includes(request, docs, session)
        return page

    async def _includes(self, request: SearchRequest, docs: list[dict[str, Any]],
                        session: StoreSession | None) -> list[dict[str, Any]]:
        wanted: dict[str, set[str]] = {}
        for inc in request.includes:
            if inc.source_type != request.resource_type:
                continue
            for d in docs:
                for ref in reference.targets_of(d.get("s", {}).get(inc.param, [])):
                    rtype, rid = ref.split("/", 1)
                    if rtype in RESOURCE_TYPES and inc.target_type in (None, rtype):
                        wanted.setdefault(rtype, set()).add(rid)
        out: list[dict[str, Any]] = []
        for rtype, ids in wanted.items():
            found = await self.db[rtype].find({"_id": {"$in": sorted(ids)}}, projection={"r": 1},
                                              session=session).to_list()
            out.extend(f["r"] for f in found)
        out.extend(await self._revincludes(request.revincludes, request.resource_type, docs, session))
        return _once(out, {(request.resource_type, d["_id"]) for d in docs})

    async def _revincludes(self, revs: list[Include], rtype: str, docs: list[dict[str, Any]],
                           session: StoreSession | None) -> list[dict[str, Any]]:
        refs = [f"{rtype}/{d['_id']}" for d in docs]
        out: list[dict[str, Any]] = []
        for rev in revs:
            if rev.source_type not in RESOURCE_TYPES:
                raise InvalidInput(f"unknown resource type {rev.source_type}", expression="_revinclude")
            if not refs:
                continue
            found = await self.db[rev.source_type].find(
                {f"s.{rev.param}": {"$in": refs}}, projection={"r": 1}, limit=MAX_INCLUDED,
                sort=[("_id", ASCENDING)], session=session).to_list()
            out.extend(f["r"] for f in found)
        return out

    async def claim(self, key: str, *, session: StoreSession | None) -> None:
        await self.db[CLAIMS].update_one({"_id": key}, {"$inc": {"n": 1}, "$set": {"at": now_utc()}},
                                         upsert=True, session=session)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[StoreSession]:
        """All-or-nothing scope: writes given this session commit together or not at all."""
        async with self.client.start_session() as session:
            if not self.transactions:
                yield session
                return
            try:
                async with await session.start_transaction():
                    yield session
            except PyMongoError as exc:
                # the driver labels a lost connection inside a transaction TransientTransactionError too: that is a
                # database that does not answer (503 / AE, never retried as a conflict), not a concurrent writer
                if (exc.has_error_label("TransientTransactionError")
                        and not isinstance(exc, (WriteConflict, ConnectionFailure))):
                    raise TransactionConflict(exc) from exc
                raise

