"""Which directory ids each load wrote, kept so the next load finds what disappeared without scanning the
collections (SGL.ANN.01).

Why: on the embedded database every read that is not a point look-up by ``_id`` or an index range on a real
index materialises its whole result in the database process first: a range or a walk of ``_id`` is a scan
of the collection, decoded into memory (1.1 GB for the 250,000 resources of a 100k-line reload; the real
directory has 4 million), and its duration made the driver give up on the database. So a load never reads
a directory collection whole: it looks its batch's ids up by ``_id`` (``$in``), and it writes down the ids
of each batch here, in one small document per type and batch (``<run>:<type>:<n>``), *before* writing the
resources, so a killed run's resources are listed too.

What a run must retire is then the ids listed by the last run that inactivated (after it, every active
directory resource was in its file) and by every run since, killed ones included, minus the ids the run
produced. Those lists are read by ``_id`` in groups of a few documents: memory stays flat (8 bytes an id
for the hashes). When the inactivation is done, the lists of the runs before it are deleted.

A database loaded by a version that kept no lists cannot say what disappeared: the first run after such
loads inactivates nothing and says so (``LEGACY_SKIP``); the next ones compare with its list.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from server.annuaire.report import RUNS

IDS = "annuaire_ids"
GROUP = 8
"""Chunk documents read per round trip (each holds the ids of one batch: about 2,000)."""
LEDGER = "ledger"
"""Field of every ``annuaire_runs`` document this version writes (``LoadReport.document``): its ids are here
(a run that failed before reading anything listed none, truly)."""
Hashes = np.ndarray[Any, np.dtype[np.uint64]]


def key_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def hashes_of(ids: list[str]) -> Hashes:
    return np.fromiter((key_hash(i) for i in ids), dtype=np.uint64, count=len(ids))


def sorted_unique(parts: list[Hashes]) -> Hashes:
    """The hashes of ``parts`` sorted, each once; ``parts`` is emptied as they are joined. Why not
    ``np.unique(np.concatenate(parts))``: it sorts a second copy, and beside ``np.setdiff1d`` it made the end of
    a 2-million-line load peak at 349 MB (190 MB of temporaries for one type of 2 million ids, measured); this
    sorts the one joined array in place and keeps the parts no longer than the join."""
    joined = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    parts.clear()
    joined.sort()
    if len(joined) < 2:
        return joined
    first = np.empty(len(joined), dtype=bool)
    first[0] = True
    np.not_equal(joined[1:], joined[:-1], out=first[1:])
    return joined[first]


def absent(listed: Hashes, seen: Hashes) -> Hashes:
    """The hashes of ``listed`` not in ``seen`` (both as ``sorted_unique`` returns them), by one binary search
    each: 16 bytes of temporaries per listed id, where ``np.setdiff1d`` joins and sorts both arrays again."""
    if not len(seen) or not len(listed):
        return listed
    at = np.searchsorted(seen, listed)
    np.minimum(at, len(seen) - 1, out=at)
    missing: Hashes = listed[seen[at] != listed]
    return missing


def _chunk_id(run: str, rtype: str, n: int) -> str:
    return f"{run}:{rtype}:{n:06d}"


LEGACY_SKIP = ("skipped: an earlier load was made by a version that kept no list of its ids; from the next load "
               "on, what a file lacks is inactivated")
"""The inactivation of the first run after such loads. Resources those loads made and that their files no
longer held then stay active (finding them would need the whole-collection read this module avoids)."""


class NoLedger(Exception):
    """A run since the last inactivation kept no list of its ids (an earlier version loaded it)."""


class Ledger:
    """The ids of one run, written batch by batch, and the reading of the earlier runs' lists."""

    def __init__(self, db: AsyncDatabase[Any], run: str) -> None:
        self.db, self.run = db, run
        self._next: dict[str, int] = {}

    async def record(self, batch: dict[str, list[str]]) -> None:
        """Write down the ids of one batch, per type, before they are written, in one command. A new pass of
        the same run (same batches, same order) rewrites the same documents."""
        writes = []
        for rtype, ids in batch.items():
            n = self._next.get(rtype, 0)
            self._next[rtype] = n + 1
            writes.append(ReplaceOne({"_id": _chunk_id(self.run, rtype, n)},
                                     {"run": self.run, "type": rtype, "ids": ids}, upsert=True))
        if writes:
            await self.db[IDS].bulk_write(writes, ordered=False)

    async def runs_to_compare(self) -> list[str]:
        """The runs whose lists together hold every active directory id: the last one that inactivated (or
        that found only older loads without lists) and every one since, this run included. Raises ``NoLedger``
        if one of them kept no list."""
        done = await self.db[RUNS].find_one({"inactivation": {"$in": ["done", LEGACY_SKIP]}, LEDGER: True},
                                            sort=[("started", -1)], projection={"started": 1})
        since = {"started": {"$gte": done["started"]}} if done else {}
        runs = [r async for r in self.db[RUNS].find(since, projection={LEDGER: 1, "started": 1})]
        if any(not r.get(LEDGER) for r in runs if r["_id"] != self.run):
            raise NoLedger
        return [r["_id"] for r in runs]

    async def ids(self, run: str, rtype: str) -> AsyncIterator[list[str]]:
        """The lists of ``run`` for ``rtype``, batch by batch."""
        n = 0
        while True:
            wanted = [_chunk_id(run, rtype, i) for i in range(n, n + GROUP)]
            found = {d["_id"]: d["ids"] async for d in self.db[IDS].find({"_id": {"$in": wanted}})}
            for key in wanted:
                if key in found:
                    yield found[key]
            if len(found) < GROUP:
                return
            n += GROUP

    async def listed(self, runs: list[str], rtype: str) -> Hashes:
        """``key_hash`` of every id the ``runs`` listed for ``rtype``, sorted, each once."""
        return sorted_unique([hashes_of(ids) for run in runs async for ids in self.ids(run, rtype)])

    async def forget_before(self, runs: list[str], types: tuple[str, ...]) -> None:
        """Delete the lists of ``runs`` (earlier ones: this run's inactivation made them useless)."""
        for run in runs:
            if run == self.run:
                continue
            for rtype in types:
                n = 0
                while True:
                    wanted = [_chunk_id(run, rtype, i) for i in range(n, n + GROUP)]
                    gone = (await self.db[IDS].delete_many({"_id": {"$in": wanted}})).deleted_count
                    if gone < GROUP:
                        break
                    n += GROUP
