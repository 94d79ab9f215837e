"""Benchmark: the order form's prescriber search against a directory-sized PractitionerRole collection.

    .venv/bin/python -m bench.prescriber [--people 30000] [--rounds 5]

Stores ``--people`` Practitioners, each with one PractitionerRole at one of 2,000 Organizations (the shape
``sgl annuaire load`` writes), directly as the store's own documents (``_document`` + ``insert_many``, as
bench/search_scale.py does), in the embedded database of a real ``sgl serve``. Then, in this process through
the store's search (no HTTP), interleaved for ``--rounds`` rounds so both meet the same machine load:

- the baseline: what the order form read before, ``PractitionerRole?_include=PractitionerRole:practitioner
  &_count=200`` (no filter);
- the picker: ``Practitioner?name=martin&name=jea&_count=20`` then ``PractitionerRole?practitioner=<those>
  &_include=…:practitioner&_include=…:organization`` — what the page sends for "martin jea" — and for "mar"
  alone (the widest: 3 letters that also start the common given names Marie and Marc, 1 person in 5).

Prints the median of each, their ratio and the load average. Memory of the database is not measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.analyzer_ingest import out
from resources.fhirjson import content_hash
from resources.interactions import search
from resources.search.date import now_utc
from resources.store.mongo import _stamp
from server.database import Database, open_database
from server.settings import Settings
from tests.support.sgl_server import start_sgl

FAMILIES = ("MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU",
            "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT", "FOURNIER")
GIVEN = ("Jean", "Marie", "Pierre", "Anne", "Paul", "Claire", "Louis", "Sophie", "Marc", "Julie", "Luc", "Léa")
SITES = 2000
BATCH = 200
BASE = "http://bench/fhir"


SYLLABLES = ("BA", "LE", "RO", "DU", "MI", "CA", "VE", "TO", "GA", "PI", "NO", "SA", "FOU", "CHE", "LOU", "TRI",
             "BER", "GEN", "POL", "VAL", "DRE", "QUI", "ZE", "HU")


def _family(i: int) -> str:
    """One in five a common name (1 % of the people each), the others among 13,824 rarer ones."""
    if i % 5 == 0:
        return FAMILIES[(i // 5) % len(FAMILIES)]
    n = i * 7919
    return "".join(SYLLABLES[(n // d) % len(SYLLABLES)] for d in (1, 24, 576))


def _people(i: int) -> list[dict[str, Any]]:
    family = _family(i)
    doctor = {"resourceType": "Practitioner", "id": f"b-{i}", "active": True,
              "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": f"8{10_000_000_000 + i}"}],
              "name": [{"family": family, "given": [GIVEN[(i // 3) % len(GIVEN)]], "prefix": ["Dr"]}]}
    role = {"resourceType": "PractitionerRole", "id": f"b-{i}", "active": True,
            "practitioner": {"reference": f"Practitioner/b-{i}"},
            "organization": {"reference": f"Organization/b-{i % SITES}"}}
    return [doctor, role]


def _site(i: int) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": f"b-{i}", "name": f"Cabinet {i}",
            "address": [{"postalCode": f"{1000 + i * 43 % 94000:05d}", "city": f"Ville {i}"}]}


async def _insert(database: Database, bodies: list[dict[str, Any]]) -> None:
    lu = now_utc()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for body in bodies:
        stamped = _stamp(body, 1, lu)
        by_type.setdefault(body["resourceType"], []).append(
            database.store._document(stamped, 1, lu, content_hash(stamped), "POST"))
    for rtype, docs in by_type.items():
        await database.db[rtype].insert_many(docs)


async def load(database: Database, people: int) -> None:
    for first in range(0, SITES, BATCH):
        await _insert(database, [_site(i) for i in range(first, min(first + BATCH, SITES))])
    for first in range(0, people, BATCH):
        await _insert(database, [r for i in range(first, min(first + BATCH, people)) for r in _people(i)])


async def baseline(database: Database) -> int:
    bundle = await search(database.store, "PractitionerRole",
                          [("_include", "PractitionerRole:practitioner"), ("_count", "200")], base=BASE)
    return len(bundle.get("entry", []))


async def picker(database: Database, words: tuple[str, ...]) -> int:
    found = await search(database.store, "Practitioner", [*(("name", w) for w in words), ("_count", "20")],
                         base=BASE)
    refs = ",".join(f"Practitioner/{e['resource']['id']}" for e in found.get("entry", []))
    if not refs:
        return 0
    roles = await search(database.store, "PractitionerRole", [
        ("practitioner", refs), ("_include", "PractitionerRole:practitioner"),
        ("_include", "PractitionerRole:organization"), ("_count", "50")], base=BASE)
    return len(roles.get("entry", []))


async def main(args: argparse.Namespace) -> None:
    server = start_sgl(Path(tempfile.mkdtemp(prefix="sgl-bench-prescriber-")) / "var")
    database = await open_database(Settings(data_dir=server.data_dir))
    try:
        out(f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()}")
        begin = time.perf_counter()
        await load(database, args.people)
        out(f"{args.people} Practitioners + PractitionerRoles, {SITES} Organizations stored in "
            f"{time.perf_counter() - begin:.1f} s")
        typed = {"martin jea": ("martin", "jea"), "mar": ("mar",)}
        timings: dict[str, list[float]] = {"before": [], **{t: [] for t in typed}}
        entries: dict[str, int] = {}
        for _ in range(args.rounds):
            for name in timings:
                begin = time.perf_counter()
                entries[name] = await (baseline(database) if name == "before" else picker(database, typed[name]))
                timings[name].append(time.perf_counter() - begin)
        old = statistics.median(timings["before"])
        out(f"before: PractitionerRole?_include=…&_count=200 median {old * 1000:8.1f} ms ({entries['before']} entries)")
        for name in typed:
            new = statistics.median(timings[name])
            out(f"picker, typed {name!r:<12} (+ its roles)  median {new * 1000:8.1f} ms ({entries[name]} entries); "
                f"ratio picker / before {new / old:.3f}")
        out(f"load average after: {os.getloadavg()}")
    finally:
        await database.close()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
