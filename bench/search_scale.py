"""Benchmark: indexed Observation search through the HTTP API with many Observations stored.

    .venv/bin/python -m bench.search_scale [--observations 1000000] [--searches 300] [--data-dir DIR]

Loading a million Observations through the API takes hours on a small machine, so the benchmark writes
them the way the store would, directly: each Observation is stamped and turned into its stored document
by the store's own ``_document`` (resource, search values, sort keys, content hash, as a create writes it)
and inserted by unordered ``insert_many`` of 1,000, two batches in flight, into the ``Observation``
collection, which ``sgl serve`` created with its indexes. While loading, the database runs with a 2 GB cache
(``--load-cache``): with the server's default 256 MB, a 1,000-document transaction wedged WiredTiger's eviction
after about 20,000 documents (every thread drafted into evicting, the insert stuck for minutes). The server
is then restarted with its default cache for the searches: it answers ``GET /fhir/Observation?subject=…&code=…`` (1,000
patients, 20 LOINC codes: about N/20,000 matches per search, first page of 20) over HTTP with a token,
one request at a time; the same searches through the store in this process (no HTTP, no token) are
the baseline measured in the same run, interleaved in ten rounds so both meet the same load, each going first
in half of the rounds: whichever runs a search first reads its documents from disk when they do not fit the
cache (session 7 ran HTTP first every time, and its store baseline was served warm).

``--data-dir`` keeps the database between runs: a reused one is topped up to ``--observations``, not
loaded again (so a load stopped half-way can go on). Prints the load rate, p50/p95/p99 and the CPU per search
(database, `sgl serve`, this process) of each, their ratio, the mean matches per search and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pymongo.errors import AutoReconnect, BulkWriteError

from bench.analyzer_ingest import CpuMeter, OpsMeter, cpu_seconds, out, percentile
from bench.fhir_store import LOINC, observation
from resources.fhirjson import content_hash
from resources.interactions import search
from resources.search.date import now_utc
from resources.store.mongo import _stamp
from server.database import Database, open_database
from server.settings import Settings
from tests.support.access import role_client
from tests.support.sgl_server import start_sgl

PATIENTS = 1000
START_TIMEOUT_S = 1800.0
BATCH = 1000
"""Documents per unordered ``insert_many``: one database command and one commit for a thousand documents."""


def stored(database: Database, i: int) -> dict[str, Any]:
    """The document the store writes for the ``i``-th benchmark Observation (a create: version 1, POST)."""
    lu = now_utc()
    body = _stamp({**observation(f"Patient/bench-{i % PATIENTS}", LOINC[(i // PATIENTS) % len(LOINC)],
                                 4 + (i % 50) / 10, i), "id": f"bench-{i}"}, 1, lu)
    return database.store._document(body, 1, lu, content_hash(body), "POST")


async def write_batch(database: Database, first: int, last: int) -> int:
    """Insert documents ``first..last-1`` unordered; those already stored (a resumed load rewrites the batches
    that were in flight when it stopped) are skipped by their duplicate ``_id``. Returns how many were new."""
    docs = [stored(database, i) for i in range(first, last)]
    try:
        result = await database.db["Observation"].insert_many(docs, ordered=False)
        return len(result.inserted_ids)
    except BulkWriteError as exc:
        others = [e for e in exc.details.get("writeErrors", []) if e.get("code") != 11000]
        if others:
            raise
        return int(exc.details.get("nInserted", 0))


async def load(database: Database, target: int, meter: CpuMeter, minutes: float, writers: int) -> None:
    """Top the Observation collection up to ``target`` documents (ids ``bench-<n>``), or as many as ``minutes``
    of loading allow (the search then runs on what was loaded, and says so). ``writers`` batches are in flight
    at once, so the database always has one queued while it commits another; a resumed load starts ``writers``
    batches below the count (any of the last ones in flight may be incomplete) and skips what is there."""
    collection = database.db["Observation"]
    start_count = await collection.estimated_document_count()
    if start_count >= target:
        out(f"{start_count} Observations already stored: nothing to load")
        return
    first_batch = max(0, start_count // BATCH - writers)
    batches = iter(range(first_batch * BATCH, target, BATCH))
    meter.start()
    cpu_bench = time.process_time()
    start = report = time.perf_counter()
    deadline = start + minutes * 60
    state = {"loaded": 0, "cut": 0}

    async def writer() -> None:
        for first in batches:
            if time.perf_counter() > deadline:
                return
            while True:
                try:
                    new = await write_batch(database, first, min(first + BATCH, target))
                    state["loaded"] += new  # not `+= await`: that reads the count before the await
                    break
                except AutoReconnect:  # a missed heartbeat cancels the statements in flight: write it again
                    state["cut"] += 1
                    await asyncio.sleep(1)

    async def progress() -> None:
        nonlocal report
        while True:
            await asyncio.sleep(60)
            report = time.perf_counter()
            out(f"  {start_count + state['loaded']} stored ({state['loaded'] / (report - start):.0f} docs/s), "
                f"load average {os.getloadavg()}")

    reporter = asyncio.create_task(progress())
    try:
        await asyncio.gather(*(writer() for _ in range(writers)))
    finally:
        reporter.cancel()
    loaded, elapsed = state["loaded"], time.perf_counter() - start
    if start_count + loaded < target:
        out(f"load stopped after {minutes} minutes, below the {target} asked")
    total = await collection.estimated_document_count()
    out(f"{start_count} -> {total} Observations stored")
    out(f"loaded {loaded} Observations in {elapsed:.0f} s by {writers} writers, unordered insert_many of {BATCH} "
        f"({state['cut']} batches cut by a missed heartbeat and written again): {loaded / max(elapsed, 1e-9):.0f} "
        f"docs/s, {len(await collection.index_information())} indexes; CPU per document: {meter.per(max(loaded, 1))}, "
        f"bench {(time.process_time() - cpu_bench) * 1000 / max(loaded, 1):.2f} ms; load average {os.getloadavg()}")


class Cpu:
    """CPU the database, ``sgl serve`` and this process (the in-process store search, the HTTP client) spent
    inside ``measure`` blocks: what a search costs whatever the machine's load; and the database operations
    (``serverStatus`` opcounters, ``sgl``'s background pollers included) they sent."""

    def __init__(self) -> None:
        self.seconds = {"db": 0.0, "sgl": 0.0, "bench": 0.0}
        self.ops = dict.fromkeys(OpsMeter.KINDS, 0)

    async def count(self, ops: OpsMeter, before: dict[str, int]) -> None:
        after = await ops.counters()
        for kind in self.ops:  # less the serverStatus command that read ``before``
            self.ops[kind] += after[kind] - before[kind] - (1 if kind == "command" else 0)

    def ops_per(self, units: int) -> str:
        return ", ".join(f"{kind} {n / units:.2f}" for kind, n in self.ops.items() if n) + \
            f" (total {sum(self.ops.values()) / units:.2f})"

    @contextlib.contextmanager
    def measure(self, pids: dict[str, int]) -> Iterator[None]:
        before = {name: cpu_seconds(pid) for name, pid in pids.items()} | {"bench": time.process_time()}
        yield
        after = {name: cpu_seconds(pid) for name, pid in pids.items()} | {"bench": time.process_time()}
        for name in self.seconds:
            self.seconds[name] += after[name] - before[name]

    def per(self, units: int) -> str:
        return ", ".join(f"{name} {seconds * 1000 / units:.2f} ms" for name, seconds in self.seconds.items())


def summary(label: str, seconds: list[float]) -> float:
    ms = sorted(x * 1000 for x in seconds)
    p95 = percentile(ms, 0.95)
    out(f"{label:<34} {len(ms)} searches: p50 {statistics.median(ms):6.2f} ms, p95 {p95:6.2f} ms, "
        f"p99 {percentile(ms, 0.99):6.2f} ms")
    return p95


async def main(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="sgl-bench-search-")) / "var"
    out(f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()}; data dir {data_dir}")
    # a start-up may build an index the code added since the data dir was loaded: minutes at 10^6 documents
    server = start_sgl(data_dir, env={"SGL_DB_CACHE_SIZE": args.load_cache}, timeout=START_TIMEOUT_S)
    database = await open_database(Settings(data_dir=server.data_dir))
    try:
        await load(database, args.observations, CpuMeter(server, database), args.load_minutes, args.writers)
    finally:
        await database.close()
        server.stop()
    server = start_sgl(data_dir, timeout=START_TIMEOUT_S)  # searched with the cache the server runs with
    database = await open_database(Settings(data_dir=server.data_dir))
    try:
        meter, ops = CpuMeter(server, database), OpsMeter(database)
        total = await database.db["Observation"].estimated_document_count()
        rng = random.Random(7)
        queries = [[("subject", f"Patient/bench-{rng.randrange(PATIENTS)}"),
                    ("code", f"http://loinc.org|{rng.choice(LOINC)}")] for _ in range(args.searches)]
        http: list[float] = []
        store: list[float] = []
        matches: list[int] = []
        spent = {"http": Cpu(), "store": Cpu()}
        async with role_client(server.base, server.data_dir, "biologiste-responsable", timeout=60) as fhir:
            await fhir.get("Observation", params=queries[0])  # token and first connection, outside the measure
            await search(database.store, "Observation", queries[0], base="http://bench/fhir")
            rounds = 10
            for r in range(rounds):
                share = queries[r::rounds]
                # each search meets a cold cache the first time it runs (10^6 documents do not fit the cache):
                # HTTP goes first in even rounds, the store in odd ones, so both pay it equally
                for kind in ("http", "store") if r % 2 == 0 else ("store", "http"):
                    before = await ops.counters()
                    with spent[kind].measure(meter.pids):
                        for pairs in share:
                            begin = time.perf_counter()
                            if kind == "http":
                                response = await fhir.get("Observation", params=pairs)
                                http.append(time.perf_counter() - begin)
                                response.raise_for_status()
                                matches.append(sum(e["search"]["mode"] == "match"
                                                   for e in response.json().get("entry", [])))
                            else:
                                await search(database.store, "Observation", pairs, base="http://bench/fhir")
                                store.append(time.perf_counter() - begin)
                    await spent[kind].count(ops, before)
        out(f"Observations stored: {total}; mean matches per search (first page of 20): "
            f"{statistics.mean(matches):.1f}")
        p95 = summary("HTTP GET Observation?subject&code", http)
        out(f"{'':<34} CPU per search: {spent['http'].per(len(http))}")
        out(f"{'':<34} database operations per search: {spent['http'].ops_per(len(http))}")
        base = summary("  store search in-process (baseline)", store)
        out(f"{'':<34} CPU per search: {spent['store'].per(len(store))}")
        out(f"{'':<34} database operations per search: {spent['store'].ops_per(len(store))}")
        out(f"ratio p95 HTTP / store: {p95 / base:.2f}")
        out(f"load average after: {os.getloadavg()}")
    finally:
        await database.close()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--load-minutes", type=float, default=120.0, help="stop loading after this long")
    parser.add_argument("--load-cache", default="2G",
                        help="the database's cache while loading (SGL_DB_CACHE_SIZE; the search runs with the default)")
    parser.add_argument("--writers", type=int, default=2, help="batches in flight at once while loading")
    parser.add_argument("--data-dir", help="keep (or reuse and top up) the database here")
    asyncio.run(main(parser.parse_args()))
