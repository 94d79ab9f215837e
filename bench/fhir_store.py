"""Benchmark of the FHIR store on one database in one run.

    .venv/bin/python bench/fhir_store.py [--observations 100000] [--creates 2000] [--data-dir DIR]

Measures, against the same embedded SecantusDB (or SGL_MONGODB_URI):
  1. raw PyMongo ``insert_one`` of an Observation's stored document (resource and search values) into a
     collection with the Observation collection's indexes (the baseline), and
  2. FHIR create of the same Observation through the store (validation, search values, indexes),
     in ten interleaved rounds so that both meet the same database state and machine load;
  3. ``Observation?subject=…&code=…`` with N Observations stored;
  4. a transaction Bundle of 1 Patient + 20 Observations.
Prints ops/s, p50/p95 latency and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tqdm import tqdm

from resources.fhirjson import content_hash
from resources.interactions import create, process_bundle, search
from resources.search.date import now_utc
from resources.store.indexes import current_indexes
from resources.store.mongo import _stamp
from server.database import open_database
from server.settings import Settings

LOINC = [f"{n}-{d}" for n, d in [(2345, 7), (2160, 0), (2951, 2), (2823, 3), (718, 7), (6690, 2), (777, 3),
                                 (1988, 5), (3016, 3), (2093, 3), (2571, 8), (1742, 6), (1920, 8), (6768, 6),
                                 (2075, 0), (17861, 6), (2777, 1), (3094, 0), (14682, 9), (2085, 9)]]


def observation(patient: str, code: str, value: float, day: int) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": patient},
            "effectiveDateTime": f"2024-{1 + day % 12:02d}-{1 + day % 28:02d}T08:00:00+01:00",
            "valueQuantity": {"value": value, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                              "code": "mmol/L"}}


def summary(name: str, latencies: list[float], elapsed: float) -> dict[str, float]:
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    result = {"ops": len(ms) / elapsed, "p50": statistics.median(ms), "p95": p95}
    print(f"{name:<44} {result['ops']:>9.1f} ops/s   p50 {result['p50']:7.2f} ms   p95 {p95:7.2f} ms")  # noqa: T201
    return result


async def timed(n: int, fn: Any, label: str) -> tuple[list[float], float]:
    lat: list[float] = []
    start = time.perf_counter()
    for i in tqdm(range(n), desc=label, leave=False):
        t = time.perf_counter()
        await fn(i)
        lat.append(time.perf_counter() - t)
    return lat, time.perf_counter() - start


async def load(database: Any, count: int, start: int = 0) -> list[str]:
    """Bulk-load ``count`` Observations over 1000 patients (current collection only, as search reads it),
    numbered from ``start`` (a reused ``--data-dir`` is topped up, not loaded again)."""
    store = database.store
    patients = [f"Patient/bench-{i}" for i in range(1000)]
    batch: list[dict[str, Any]] = []
    lu = now_utc()
    for i in tqdm(range(start, start + count), desc="loading Observations"):
        body = _stamp({**observation(patients[i % 1000], LOINC[(i // 1000) % 20], 4 + (i % 50) / 10, i),
                       "id": f"bench-{i}"}, 1, lu)
        batch.append(store._document(body, 1, lu, uuid.uuid4().hex))
        if len(batch) == 1000:
            await database.db.Observation.insert_many(batch, ordered=False)
            batch = []
    if batch:
        await database.db.Observation.insert_many(batch, ordered=False)
    return patients


async def main(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="sgl-bench-"))
    database = await open_database(Settings(data_dir=data_dir, database="bench"))
    store = database.store
    print(f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''} "  # noqa: T201
          f"python {platform.python_version()}; database: {'MongoDB' if database.embedded is None else 'SecantusDB'}")
    try:
        await database.db.drop_collection("raw_insert")
        await database.db.raw_insert.create_indexes(current_indexes("Observation", engine=store.engine))
        sample = observation("Patient/bench-0", LOINC[0], 5.4, 1)
        # the subject must exist: a create whose reference resolves to nothing is refused (references.py)
        await store.update({"resourceType": "Patient", "id": "bench-0", "name": [{"family": "Bench"}]})
        stamped = _stamp({**sample, "id": "raw"}, 1, now_utc())
        stored = store._document(stamped, 1, now_utc(), content_hash(stamped), "POST")
        # interleaved rounds, so that both see the same database state and machine load
        raw_lat, fhir_lat, raw_t, fhir_t = [], [], 0.0, 0.0
        rounds = 10
        for _ in range(rounds):
            lat, elapsed = await timed(args.creates // rounds, lambda i: database.db.raw_insert.insert_one(
                                           {**stored, "_id": str(uuid.uuid4())}), "raw insert_one")
            raw_lat, raw_t = raw_lat + lat, raw_t + elapsed
            lat, elapsed = await timed(args.creates // rounds,
                                       lambda i: create(store, "Observation", dict(sample)), "FHIR create")
            fhir_lat, fhir_t = fhir_lat + lat, fhir_t + elapsed
        indexes = len(current_indexes("Observation", engine=store.engine))
        raw = summary(f"raw PyMongo insert_one, {indexes} indexes", raw_lat, raw_t)
        fhir = summary("FHIR create (store: validate+search values+indexes)", fhir_lat, fhir_t)
        print(f"ratio FHIR create / raw insert: {fhir['ops'] / raw['ops']:.2f}")  # noqa: T201

        existing = await database.db.Observation.estimated_document_count()
        if existing < args.observations:
            await load(database, args.observations - existing, start=existing)
        total = await database.db.Observation.estimated_document_count()
        rng = random.Random(7)
        queries = [[("subject", f"Patient/bench-{rng.randrange(1000)}"), ("code", f"http://loinc.org|{rng.choice(LOINC)}")]
                   for _ in range(args.searches)]
        found: list[int] = []

        async def one_search(i: int) -> None:
            bundle = await search(store, "Observation", queries[i], base="http://bench/fhir")
            found.append(len(bundle.get("entry", [])))

        s_lat, s_t = await timed(args.searches, one_search, "search")
        summary(f"search subject+code ({total} Observations)", s_lat, s_t)
        print(f"  mean matches per search: {statistics.mean(found):.1f}")  # noqa: T201

        def tx_bundle(i: int) -> dict[str, Any]:
            purl = f"urn:uuid:{uuid.uuid4()}"
            entries = [{"fullUrl": purl, "resource": {"resourceType": "Patient", "name": [{"family": f"Tx{i}"}]},
                        "request": {"method": "POST", "url": "Patient"}}]
            entries += [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": observation(purl, c, 5.0, i),
                         "request": {"method": "POST", "url": "Observation"}} for c in LOINC]
            return {"resourceType": "Bundle", "type": "transaction", "entry": entries}

        t_lat, t_t = await timed(args.transactions, lambda i: process_bundle(store, tx_bundle(i), base="http://b"),
                                 "transaction")
        summary("transaction 1 Patient + 20 Observations", t_lat, t_t)
    finally:
        await database.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--searches", type=int, default=500)
    parser.add_argument("--transactions", type=int, default=50)
    parser.add_argument("--data-dir", help="reuse a data dir (keeps the loaded Observations between runs)")
    asyncio.run(main(parser.parse_args()))
