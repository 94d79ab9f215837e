"""Benchmark of a merge's carry-over on one database in one run.

    .venv/bin/python -m bench.merge [--resources 500] [--merges 5] [--data-dir DIR]

Against the same embedded SecantusDB (or SGL_MONGODB_URI), in interleaved rounds so that both meet the same
database state and machine load:
  1. the baseline: storing a duplicate's data (``--resources`` resources of the mix a lab holds: orders, specimens,
     results, a stay, tasks; one in ten with a ``focus`` or a ``contained`` reference) through the store;
  2. the carry-over of that duplicate into another identity (every lookup, every new version, one transaction);
  3. the fixed cost: the carry-over of a duplicate holding nothing (the indexed lookups alone).
Also, in process, the write-time extraction of the Patient references outside the parameters (``o``) against
the search values' extraction of the same Observation. Prints the times and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from resources.search.extract import search_document
from resources.search.links import other_patient_references
from resources.store.base import FhirStore
from server.database import open_database
from server.identity.carry_over import CARRIED, carry_over
from server.settings import Settings


def data_of(patient: str, n: int) -> list[dict[str, Any]]:
    ref = {"reference": f"Patient/{patient}", "display": "DOUBLON"}
    out: list[dict[str, Any]] = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            body: dict[str, Any] = {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
                                    "subject": ref, "code": {"text": "bilan"}}
        elif kind == 1:
            body = {"resourceType": "Specimen", "subject": ref, "type": {"text": "sang"}}
        elif kind == 2:
            body = {"resourceType": "Task", "status": "requested", "intent": "order", "for": ref}
        elif kind == 3 and i % 50 == 3:
            body = {"resourceType": "Encounter", "status": "finished", "subject": ref,
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}}
        else:
            body = {"resourceType": "Observation", "status": "final", "subject": ref, "code": {"text": "K"},
                    "valueQuantity": {"value": 4.1, "unit": "mmol/L"}}
        if i % 10 == 4:
            tube = {"resourceType": "Specimen", "id": "s", "subject": {"reference": f"Patient/{patient}"}}
            body["contained"] = [tube]
        if i % 10 == 9 and body["resourceType"] == "Observation":
            body["focus"] = [ref]
        out.append(body)
    return out


async def _patient(store: FhirStore) -> str:
    return (await store.create({"resourceType": "Patient", "gender": "female"})).id


async def one_round(store: FhirStore, n: int) -> tuple[float, float, float]:
    """(store the data, carry it over, carry over nothing), seconds."""
    dup, kept, empty = await _patient(store), await _patient(store), await _patient(store)
    start = time.perf_counter()
    for body in data_of(dup, n):
        await store.create(body)
    stored = time.perf_counter() - start
    start = time.perf_counter()
    async with store.transaction() as session:
        written = await carry_over(store, dup, kept, session=session)
    carried = time.perf_counter() - start
    assert len(written) == n, (len(written), n)
    start = time.perf_counter()
    async with store.transaction() as session:
        assert await carry_over(store, empty, kept, session=session) == []
    return stored, carried, time.perf_counter() - start


def extraction_ratio(runs: int = 20000) -> None:
    obs = {"resourceType": "Observation", "id": "x", "status": "final", "subject": {"reference": "Patient/p"},
           "basedOn": [{"reference": "ServiceRequest/s"}], "specimen": {"reference": "Specimen/t"},
           "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}]}, "effectiveDateTime": "2026-10-01",
           "valueQuantity": {"value": 80, "unit": "µmol/L", "system": "http://unitsofmeasure.org", "code": "umol/L"},
           "referenceRange": [{"low": {"value": 45}, "high": {"value": 90}}],
           "performer": [{"reference": "Practitioner/b"}], "meta": {"tag": [{"system": "s", "code": "technical"}]}}
    values, _, _ = search_document(obs)
    start = time.perf_counter()
    for _ in range(runs):
        search_document(obs)
    base = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(runs):
        other_patient_references(obs, values)
    extra = time.perf_counter() - start
    print(f"write-time extraction of one Observation: search values {base / runs * 1e6:.1f} µs, "  # noqa: T201
          f"Patient references outside the parameters {extra / runs * 1e6:.1f} µs (ratio {extra / base:.2f})")


async def main(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="sgl-bench-merge-"))
    database = await open_database(Settings(data_dir=data_dir, database="bench"))
    print(f"machine: {platform.node()} {platform.machine()} python {platform.python_version()}; "  # noqa: T201
          f"database: {'MongoDB' if database.embedded is None else 'SecantusDB'}; "
          f"{sum(len(f) for f in CARRIED.values())} indexed lookups per merge")
    try:
        rounds = [await one_round(database.store, args.resources) for _ in range(args.merges)]
    finally:
        await database.close()
    stored, carried, empty = (statistics.median(r[i] for r in rounds) for i in range(3))
    n = args.resources
    print(f"store {n} resources of the duplicate: {stored * 1000:8.0f} ms ({stored / n * 1000:.2f} ms each)")  # noqa: T201
    print(f"carry them over (one transaction):   {carried * 1000:8.0f} ms ({carried / n * 1000:.2f} ms each)")  # noqa: T201
    print(f"carry over a duplicate holding none: {empty * 1000:8.0f} ms")  # noqa: T201
    print(f"ratio carry-over / storing: {carried / stored:.2f} (medians of {args.merges} rounds)")  # noqa: T201
    extraction_ratio()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=500)
    parser.add_argument("--merges", type=int, default=5)
    parser.add_argument("--data-dir")
    asyncio.run(main(parser.parse_args()))
