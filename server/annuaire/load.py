"""Incremental load of the Annuaire Santé extractions into the store (SGL.ANN.01).

Lines are read and written in batches (``BATCH`` lines), so memory stays flat whatever the size of the
file. Each batch's resources are looked up by ``_id`` (their stored content hash) and compared: a new one is
created (in bulk), a different one updated (new version), an equal one left alone. A directory collection
is never read whole (see ``server/annuaire/ledger.py``: on the embedded database that materialises it).
The directory resources are those with an ``as-`` id and the directory as ``meta.source``; when every file
has been read to the end, the active ones the run did not produce are marked ``active: false``
(never deleted: dossiers keep pointing to them). A load that stopped early, or that rejected most of
its lines, inactivates nothing: a truncated download must not retire half the country's professionals.

The MSSanté extraction feeds ``annuaire_mssante`` (the look-up of SGL.ANN.05) and, when it is loaded
before the PS file (a zip with both, or ``--mssante``), the Practitioners' MSSanté addresses.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase

from facades.annuaire import (
    MSS_KIND,
    SOURCE,
    ExtractionError,
    LineRefused,
    Rejected,
    Row,
    Source,
    activity,
    merge_qualifications,
    mssante_entry,
    open_extractions,
    rows,
)
from resources.fhirjson import content_hash
from resources.search.date import now_utc
from resources.store.mongo import DuplicateConflict, MongoFhirStore
from server.annuaire.follow import ID_PREFIX, follow_directory
from server.annuaire.ledger import LEGACY_SKIP, Hashes, Ledger, NoLedger, absent, hashes_of, key_hash, sorted_unique
from server.annuaire.report import MSSANTE, RUNS, LoadReport

log = logging.getLogger(__name__)

BATCH = 2000
IN_CHUNK = 100
DIRECTORY_TYPES = ("Practitioner", "PractitionerRole", "Organization")
MAX_REJECTED_SHARE = 0.5
"""Above this share of rejected lines the file is suspect: nothing is inactivated."""
Progress = Callable[[Source], None]


async def ensure_indexes(db: AsyncDatabase[Any]) -> None:
    await db[MSSANTE].create_index("idnat")
    await db[MSSANTE].create_index([("family_key", 1), ("given_key", 1)])
    await db[RUNS].create_index("started")


def _person(item: Row | Rejected) -> str | None:
    return item.get("Identification nationale PP") if isinstance(item, Row) else None


def _batches(items: Iterator[Row | Rejected], size: int) -> Iterator[list[Row | Rejected]]:
    """Batches of about ``size`` lines; the consecutive lines of one person are never split (their
    Practitioner is built once, with the qualifications of all of them)."""
    batch: list[Row | Rejected] = []
    for item in items:
        if len(batch) >= size and _person(item) != _person(batch[-1]):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _directory(doc: dict[str, Any]) -> bool:
    """A stored document is a directory resource this loader wrote and still active: its id is ``as-...`` and
    its ``meta.source`` the directory's (a resource the lab created itself, even under such an id, is not)."""
    r = doc.get("r") or {}
    return (str(doc["_id"]).startswith(ID_PREFIX) and (r.get("meta") or {}).get("source") == SOURCE
            and r.get("active") is not False)


def _walk(collection: AsyncCollection[Any], projection: dict[str, Any]) -> AsyncCursor[Any]:
    """Every document of ``collection`` (only for ``annuaire_mssante``, whose documents are small: a directory
    collection is never read whole, see ``server/annuaire/ledger.py``)."""
    return collection.find({}, projection=projection, batch_size=BATCH)


def _contains(sorted_keys: Hashes, key: int) -> bool:
    at = int(np.searchsorted(sorted_keys, np.uint64(key)))
    return at < len(sorted_keys) and int(sorted_keys[at]) == key


class DirectoryLoad:
    """One run: ``await DirectoryLoad(store, source_label).load(paths)`` returns its ``LoadReport``."""

    def __init__(self, store: MongoFhirStore, source: str, *, progress: Progress | None = None,
                 run: str | None = None) -> None:
        self.store, self.db = store, store.db
        self.report = LoadReport(run or uuid.uuid4().hex, now_utc(), source)
        self.progress = progress
        self._ps_loaded = False
        self.ledger = Ledger(self.db, self.report.run)
        self._seen: dict[str, list[Hashes]] = {t: [] for t in DIRECTORY_TYPES}
        """Per type, 64-bit hashes of the ids this run produced (8 bytes a resource: flat enough)."""
        self._sites: set[int] = set()
        self._mss_seen: list[Hashes] = []
        self._accepted = 0
        self.bulk_first = True
        """Insert first at the start and while nothing of the previous batch was stored (False: always look up
        first, as before the bulk path; the tests compare both)."""
        self._bulk: dict[str, bool] = {}
        self._addresses = True

    async def load(self, paths: list[Path]) -> LoadReport:
        """Read ``paths`` in order (give the MSSanté extraction first; inside a zip it comes first)."""
        await ensure_indexes(self.db)
        await self.db[RUNS].replace_one({"_id": self.report.run}, self.report.document(), upsert=True)
        try:
            for path in paths:
                with open_extractions(path) as sources:
                    for source in sources:
                        await (self._mssante(source) if source.kind == MSS_KIND else self._people(source))
            self.report.complete = True
        except (ExtractionError, OSError, EOFError) as exc:  # a bad zip member raises EOFError/BadZipFile(OSError)
            self.report.error = str(exc)
            log.warning("directory load %s stopped: %s", self.report.run, exc)
        await self._inactivate()
        if self._ps_loaded and self.report.complete:
            self.report.followed = await follow_directory(self.store)
        self.report.finished = now_utc()
        await self.db[RUNS].replace_one({"_id": self.report.run}, self.report.document())
        return self.report

    # -- the PS file -----------------------------------------------------------------------------
    async def _people(self, source: Source) -> None:
        self._ps_loaded = True
        # no MSSanté extraction ever loaded: no address to look up per batch (asked of the few run reports: even
        # a find_one({}) of the look-up collection would decode all of it on the embedded database)
        self._addresses = (any(f["kind"] == MSS_KIND for f in self.report.files)
                           or await self.db[RUNS].find_one({"files.kind": MSS_KIND}, projection={"_id": 1}) is not None)
        lines = 0
        for batch in _batches(rows(source.lines), BATCH):
            lines += len(batch)
            await self._people_batch(source.name, batch)
            if self.progress:
                self.progress(source)
        self.report.files.append({"name": source.name, "kind": source.kind, "lines": lines})

    async def _people_batch(self, file: str, batch: list[Row | Rejected]) -> None:
        good = [r for r in batch if isinstance(r, Row)]
        for rej in (r for r in batch if isinstance(r, Rejected)):
            self.report.reject(file, rej.line, rej.reason)
        idnats = {r.get("Identification nationale PP") for r in good}
        addresses: dict[str, list[str]] = {}
        for doc in await self._find(MSSANTE, sorted(idnats) if self._addresses else [], {"idnat": 1, "address": 1},
                                    field="idnat", extra={"kind": "PER"}):
            addresses.setdefault(doc["idnat"], []).append(doc["address"])
        out: dict[str, dict[str, dict[str, Any]]] = {"Practitioner": {}, "PractitionerRole": {}, "Organization": {}}
        for row in good:
            try:
                act = activity(row, addresses.get(row.get("Identification nationale PP"), []))
            except LineRefused as exc:
                self.report.reject(file, row.line, str(exc))
                continue
            self._accepted += 1
            pid = act.practitioner["id"]
            known = out["Practitioner"].get(pid)
            out["Practitioner"][pid] = merge_qualifications(known, act.practitioner) if known else act.practitioner
            out["PractitionerRole"][act.role["id"]] = act.role
            if act.organization:
                out["Organization"].setdefault(act.organization["id"], act.organization)
        sites = out["Organization"]  # many activities share a site: each written once per run
        out["Organization"] = {rid: r for rid, r in sites.items() if key_hash(f"Organization/{rid}") not in self._sites}
        self._sites.update(key_hash(f"Organization/{rid}") for rid in out["Organization"])
        # the ids are listed before the writes, all types in one command: a killed run's are listed too
        await self.ledger.record({rtype: list(resources) for rtype, resources in out.items() if resources})
        for rtype, resources in out.items():
            if resources:
                self._seen[rtype].append(hashes_of(list(resources)))
                await self._apply(rtype, resources)

    async def _find(self, collection: str, ids: list[str], projection: dict[str, Any] | None = None, *,
                    field: str = "_id", extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Documents whose ``field`` is in ``ids``, ``$in`` at most ``IN_CHUNK`` values at a time (long ``$in``
        lists are slow on the embedded database)."""
        out: list[dict[str, Any]] = []
        for at in range(0, len(ids), IN_CHUNK):
            query = {field: {"$in": ids[at:at + IN_CHUNK]}, **(extra or {})}
            out += [d async for d in self.db[collection].find(query, projection=projection)]
        return out

    async def _apply(self, rtype: str, resources: dict[str, dict[str, Any]]) -> None:
        """Write one batch of ``rtype``. The first batch, and every batch after one that found none of its ids
        stored (a first load, or past the part an interrupted one wrote), is inserted in bulk without reading
        anything first, and only the ids already stored (the insert refuses them) are compared; after a batch
        that found some stored (a reload) the stored hashes are looked up first. Either way each resource ends
        added, changed or unchanged exactly once."""
        if self._bulk.get(rtype, self.bulk_first):
            present = await self.store.create_missing(list(resources.values()))
            self.report.count(rtype, "added", len(resources) - len(present))
            self._bulk[rtype] = not present
            if not present:
                return
            resources = {rid: resources[rid] for rid in present}
        stored = {d["_id"]: d["h"] for d in await self._find(rtype, list(resources), {"h": 1})}
        new = [r for rid, r in resources.items() if rid not in stored]
        for rid, stored_hash in stored.items():  # an inactive one back in the file differs: made active again
            changed = await self._write(resources[rid], stored_hash)
            self.report.count(rtype, "changed" if changed else "unchanged")
        if new:
            await self._create(rtype, new)
        self._bulk[rtype] = not stored and self.bulk_first

    async def _write(self, resource: dict[str, Any], stored_hash: str) -> bool:
        body = {k: v for k, v in resource.items() if k != "meta"} | {"meta": {
            k: v for k, v in (resource.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}}
        if content_hash(body) == stored_hash:
            return False
        await self.store.update(body)
        return True

    async def _create(self, rtype: str, resources: list[dict[str, Any]]) -> None:
        try:
            await self.store.create_many([(r, r["id"]) for r in resources])
        except DuplicateConflict:  # an id with a history (deleted by hand meanwhile): one by one, versions kept
            for resource in resources:
                await self.store.update(resource)
        self.report.count(rtype, "added", len(resources))

    async def _inactivate(self) -> None:
        """Mark inactive the directory resources this run did not produce (see the module doc for when)."""
        if not self._ps_loaded:
            self.report.inactivation = "no PS_LibreAcces_Personne_activite file in this load"
            return
        if not self.report.complete:
            self.report.inactivation = "skipped: the load did not read every file to the end"
            return
        total = self._accepted + self.report.rejected_total
        if not self._accepted or self.report.rejected_total > MAX_REJECTED_SHARE * total:
            self.report.inactivation = (f"skipped: {self.report.rejected_total} of {total} lines rejected "
                                        "(the file looks damaged)")
            return
        try:
            runs = await self.ledger.runs_to_compare()
        except NoLedger:
            self.report.inactivation = LEGACY_SKIP
            return
        for rtype in DIRECTORY_TYPES:
            await self._inactivate_type(rtype, runs)
        self.report.inactivation = "done"
        await self.ledger.forget_before(runs, DIRECTORY_TYPES)

    async def _inactivate_type(self, rtype: str, runs: list[str]) -> None:
        """The active directory resources of ``rtype`` listed by ``runs`` and not produced by this run become
        inactive: their hashes are compared first, then the lists walked again to find those ids."""
        seen = sorted_unique(self._seen[rtype])  # empties the list: the parts are not kept beside the join
        gone = absent(await self.ledger.listed(runs, rtype), seen)
        del seen  # the retiring below needs only ``gone``
        if not len(gone):
            return
        for run in runs:
            async for ids in self.ledger.ids(run, rtype):
                wanted = [i for i in ids if _contains(gone, key_hash(i))]
                for doc in await self._find(rtype, wanted, {"r": 1}):
                    if _directory(doc):
                        await self.store.update({**doc["r"], "active": False})
                        self.report.count(rtype, "inactivated")
                gone = absent(gone, sorted_unique([hashes_of(wanted)]))  # listed by two runs: retired once

    # -- the MSSanté file ------------------------------------------------------------------------
    async def _mssante(self, source: Source) -> None:
        lines = 0
        for batch in _batches(rows(source.lines), BATCH):
            lines += len(batch)
            docs: dict[str, dict[str, Any]] = {}
            for item in batch:
                if isinstance(item, Rejected):
                    self.report.reject(source.name, item.line, item.reason)
                    continue
                try:
                    doc = mssante_entry(item)
                except LineRefused as exc:
                    self.report.reject(source.name, item.line, str(exc))
                    continue
                docs[doc["_id"]] = doc
            await self._mssante_batch(docs)
            if self.progress:
                self.progress(source)
        self.report.files.append({"name": source.name, "kind": source.kind, "lines": lines})
        if self.report.rejected_total <= MAX_REJECTED_SHARE * max(lines, 1):
            await self._mssante_removed()

    async def _mssante_batch(self, docs: dict[str, dict[str, Any]]) -> None:
        if not docs:
            return
        stored = {d["_id"]: d for d in await self._find(MSSANTE, list(docs))}
        self._mss_seen.append(np.fromiter((key_hash(k) for k in docs), dtype=np.uint64, count=len(docs)))
        fresh = []
        for key, doc in docs.items():
            before = stored.get(key)
            if before is None:
                self.report.count("MSSanteAddress", "added")
                fresh.append(doc)
            elif before != doc:
                self.report.count("MSSanteAddress", "changed")
                await self.db[MSSANTE].replace_one({"_id": key}, doc)
            else:
                self.report.count("MSSanteAddress", "unchanged")
        if fresh:
            await self.db[MSSANTE].insert_many(fresh, ordered=False)

    async def _mssante_removed(self) -> None:
        """Addresses no longer in the extraction are removed from the look-up."""
        seen = sorted_unique(self._mss_seen)
        async for doc in _walk(self.db[MSSANTE], {"_id": 1}):
            wanted = key_hash(doc["_id"])
            at = int(np.searchsorted(seen, np.uint64(wanted)))
            if at >= len(seen) or int(seen[at]) != wanted:
                await self.db[MSSANTE].delete_one({"_id": doc["_id"]})
                self.report.count("MSSanteAddress", "inactivated")
