"""Benchmark (not a test): orders per second through ``$order`` and OML^O21, and label render time,
on a ``sgl serve`` subprocess over the embedded database.

Run from the repository root: ``.venv/bin/python -m tests.server.orders.bench_orders``.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from facades.hl7v2 import MllpClient
from server.database import open_database
from server.settings import Settings
from tests.support.access import role_client
from tests.support.oml_samples import oml
from tests.support.orders_lab import (
    People,
    created,
    ensure_catalogue,
    order_parameters,
    patient_body,
    practitioner_role,
    unique,
)
from tests.support.sgl_server import SglProcess, start_sgl

log = logging.getLogger("bench")
EXAMS = ["GLY", "URE", "CREAT", "NFS"]


async def _people(http: httpx.AsyncClient) -> People:
    return People(await created(http, patient_body("BENCH")), await practitioner_role(http, "PRESCRIPTEUR"),
                  [await practitioner_role(http, f"C{i}") for i in range(10)])


async def bench_order(http: httpx.AsyncClient, people: People, count: int, concurrency: int) -> None:
    body = order_parameters(people, EXAMS, correspondents=10, refusals=("dmp",))
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            start = time.perf_counter()
            resp = await http.post("ServiceRequest/$order", json=body)
            latencies.append(time.perf_counter() - start)
            resp.raise_for_status()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    log.info("$order (4 exams, 3 tubes, 10 correspondents, 1 refusal) x%d, %d at a time: %.1f orders/s, "
             "p50 %.0f ms, p99 %.0f ms", count, concurrency, count / elapsed, statistics.median(latencies) * 1000,
             latencies[int(len(latencies) * 0.99) - 1] * 1000)


async def bench_oml(server: SglProcess, count: int) -> None:
    messages = [oml(unique("B"), unique("IPP"), [(unique("P"), "GLY", unique("S")), (unique("P"), "NFS", unique("S"))])
                for _ in range(count)]
    async with MllpClient("127.0.0.1", server.mllp_port, read_timeout=60) as client:
        start = time.perf_counter()
        for message in messages:
            await client.send(message)
        elapsed = time.perf_counter() - start
    log.info("OML^O21 (new patient, 2 orders) x%d on one connection: %.1f messages/s", count, count / elapsed)


async def bench_label(http: httpx.AsyncClient, people: People, count: int) -> None:
    resp = await http.post("ServiceRequest/$order", json=order_parameters(people, ["GLY"]))
    specimen = next(e["resource"] for e in resp.json()["entry"] if e["resource"]["resourceType"] == "Specimen")
    times = []
    for _ in range(count):
        start = time.perf_counter()
        (await http.get(f"Specimen/{specimen['id']}/$label")).raise_for_status()
        times.append(time.perf_counter() - start)
    log.info("GET Specimen/{id}/$label x%d: median %.0f ms", count, statistics.median(times) * 1000)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_sgl(Path(tmp) / "var")
        try:
            database = await open_database(Settings(data_dir=server.data_dir))
            await ensure_catalogue(database)
            await database.close()
            async with role_client(server.base, server.data_dir, "biologiste-responsable", timeout=120) as http:
                people = await _people(http)
                await bench_order(http, people, 20, 1)  # warm-up
                await bench_order(http, people, 200, 1)
                await bench_order(http, people, 200, 8)
                await bench_oml(server, 200)
                await bench_label(http, people, 20)
        finally:
            server.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(main())
