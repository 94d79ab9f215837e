"""Benchmark: a lab's busy hour on one server — analyzer ingest (HL7 and ASTM), biological validations
producing CR-Bio documents, and workbench reads at once — beside each kind run alone and the raw store.

    .venv/bin/python -m bench.busy_hour [--seconds 20] [--results 10] [--tubes 20] [--report-results 6]

Starts ``sgl serve`` on a fresh data dir (embedded SecantusDB, synchronous commit on), seeds the
catalogue, ``--tubes`` ordered tubes and a few validated dossiers, warms every path once, then runs
each kind alone for ``--seconds`` and then all of them together for ``--seconds`` (the server starts its document
pool warm, as a production server does):

- ``hl7``: 2 MLLP connections sending ORU^R01 of ``--results`` results on the ordered tubes (ACK latency);
- ``astm``: 2 ASTM connections doing the same (latency to the final ACK);
- ``documents``: one biologist creating an order of ``--report-results`` results, validating them
  technically then biologically, until the report's documents (PDF/A, N3, N1, validated) are made
  (latency of that whole cycle);
- ``api``: 2 workbench clients reading in turn a worklist (open Tasks), a patient file (the patient's
  Observations) and a patient search (latency per request).

Prints per kind and phase the rate (results/s, documents/s, requests/s), p50/p99 latency, the ratio of
each mixed figure to the same kind alone (target: within 30 %), the CPU the server, the database and each
document process spent, and at the end the raw-store baseline (``bench.analyzer_ingest.baseline``: the Observations the
mixed phase stored, inserted again by transactional ``insert_many`` with the same indexes). Wall-clock
rates on a shared machine are noisy: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pymongo.errors import OperationFailure

from bench.analyzer_ingest import EXAMS, CpuMeter, astm, baseline, observation_ids, oru, out
from facades.astm import AstmClient
from facades.hl7v2 import MllpClient
from server.database import Database, open_database
from server.settings import Settings
from tests.support.access import ActAs
from tests.support.analyzer_lab import Tube, new_tube, seed_catalog
from tests.support.dossiers import validated_report
from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.validation_lab import UNITS, Lab, seed_definitions

VALUES = {"NA": 140, "K": 4.2, "CL": 101, "GLU": 5.1, "UREA": 5.0, "CREA": 70, "CA": 2.3, "PHOS": 1.1,
          "ALAT": 22, "ASAT": 25}
REPORT_CODES = [code for code in VALUES if code in UNITS]


@dataclass
class Tally:
    """What one kind did in one phase: units done (results, documents, requests) and latencies."""

    units: int = 0
    latencies: list[float] = field(default_factory=list)
    rate: float = 0.0
    """Units per second over the phase."""

    def line(self, kind: str, unit: str, seconds: float) -> str:
        ms = sorted(x * 1000 for x in self.latencies) or [0.0]
        return (f"{kind:<10} {self.units / seconds:8.2f} {unit}/s   p50 {statistics.median(ms):8.1f} ms   "
                f"p99 {ms[min(len(ms) - 1, int(len(ms) * 0.99))]:8.1f} ms   ({len(self.latencies)} timed)")


@dataclass
class Lab2:
    server: SglProcess
    database: Database
    tubes: list[Tube]
    lab: Lab
    reader: httpx.AsyncClient
    patient: str
    run: itertools.count[int] = field(default_factory=lambda: itertools.count(10_000))


Worker = Callable[[Lab2, float, Tally], Awaitable[None]]


async def hl7_worker(lab: Lab2, deadline: float, tally: Tally, results: int) -> None:
    client = MllpClient("127.0.0.1", lab.server.mllp_port, read_timeout=120)
    try:
        while time.monotonic() < deadline:
            n = next(lab.run)
            start = time.perf_counter()
            await client.send(oru(lab.tubes[n % len(lab.tubes)], n, results))  # raises unless AA
            tally.latencies.append(time.perf_counter() - start)
            tally.units += results
    finally:
        await client.close()


async def astm_worker(lab: Lab2, deadline: float, tally: Tally, results: int) -> None:
    async with await AstmClient.connect("127.0.0.1", lab.server.astm_port) as client:
        while time.monotonic() < deadline:
            n = next(lab.run)
            start = time.perf_counter()
            await client.send(astm(lab.tubes[n % len(lab.tubes)], n, results))
            tally.latencies.append(time.perf_counter() - start)
            tally.units += results


async def documents_worker(lab: Lab2, deadline: float, tally: Tally, report_results: int) -> None:
    values = {code: VALUES[code] for code in REPORT_CODES[:report_results]}
    while time.monotonic() < deadline:
        start = time.perf_counter()
        await validated_report(lab.lab, values, qualified=False)  # waits until the documents are made
        tally.latencies.append(time.perf_counter() - start)
        tally.units += 1


async def api_worker(lab: Lab2, deadline: float, tally: Tally) -> None:
    reads = [("Task", {"status": "requested", "_count": "20", "_sort": "-_lastUpdated"}),
             ("Observation", {"subject": f"Patient/{lab.patient}", "_count": "50"}),
             ("Patient", {"family": "VALIDATION", "_count": "20"})]
    for n in itertools.count():
        if time.monotonic() >= deadline:
            return
        rtype, params = reads[n % len(reads)]
        start = time.perf_counter()
        answer = await lab.reader.get(rtype, params=params)
        answer.raise_for_status()
        tally.latencies.append(time.perf_counter() - start)
        tally.units += 1


KINDS = ("hl7", "astm", "documents", "api")
UNITS_OF = {"hl7": "results", "astm": "results", "documents": "documents", "api": "requests"}


def workers(kind: str, args: argparse.Namespace) -> list[Worker]:
    if kind == "hl7":
        return [lambda lab, d, t: hl7_worker(lab, d, t, args.results)] * 2
    if kind == "astm":
        return [lambda lab, d, t: astm_worker(lab, d, t, args.results)] * 2
    if kind == "documents":
        return [lambda lab, d, t: documents_worker(lab, d, t, args.report_results)]
    return [api_worker] * 2


async def phase(lab: Lab2, kinds: tuple[str, ...], args: argparse.Namespace, meter: CpuMeter) -> dict[str, Tally]:
    """Run ``kinds`` at once for ``--seconds`` (each worker finishes the unit it started)."""
    tallies = {kind: Tally() for kind in kinds}
    meter.start()
    start = time.perf_counter()
    deadline = time.monotonic() + args.seconds
    await asyncio.gather(*(work(lab, deadline, tallies[kind]) for kind in kinds for work in workers(kind, args)))
    elapsed = time.perf_counter() - start
    title = " + ".join(kinds)
    out(f"-- {title}: {elapsed:.1f} s, load average {os.getloadavg()[0]:.1f}, "
        f"CPU per second of phase: {meter.per(max(1, round(elapsed)))}")
    for kind in kinds:
        out("   " + tallies[kind].line(kind, UNITS_OF[kind], elapsed))
        tallies[kind].rate = tallies[kind].units / elapsed
    return tallies


def document_processes(sgl: int) -> dict[str, int]:
    """The document pool's processes of ``sgl serve`` (its spawned children; not the embedded database nor the
    resource tracker), named ``docs1``, ``docs2``... for the CPU meter."""
    children = " ".join(Path(f).read_text() for f in glob.glob(f"/proc/{sgl}/task/*/children")).split()
    pool = [int(pid) for pid in children
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    return {f"docs{n}": pid for n, pid in enumerate(sorted(pool), start=1)}


async def main(args: argparse.Namespace) -> None:
    server = start_sgl(Path(tempfile.mkdtemp(prefix="sgl-bench-busy-")) / "var",
                       env={"SGL_DOCUMENT_WARMUP": "1"})  # as a production server starts
    people = ActAs(server)
    database: Database | None = None
    try:
        biologist = await people.biologist()
        await seed_catalog(biologist)
        await seed_definitions(biologist)
        tubes = [await new_tube(biologist, EXAMS) for _ in range(args.tubes)]
        database = await open_database(Settings(data_dir=server.data_dir))
        lab = Lab2(server, database, tubes, Lab(biologist, database.store), await people("technicien"), "")
        lab.patient, _, _ = await validated_report(lab.lab, {"NA": 140}, qualified=False)  # warm: documents
        out(f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()}")
        meter = CpuMeter(server, database)
        meter.pids.update(document_processes(server.process.pid))  # where the documents' CPU goes
        warm = argparse.Namespace(**{**vars(args), "seconds": 0.1})
        await phase(lab, KINDS, warm, meter)  # every path once (a fresh database's first writes are slow)
        alone = {kind: (await phase(lab, (kind,), args, meter))[kind] for kind in KINDS}
        before = await observation_ids(database)
        mixed = await phase(lab, KINDS, args, meter)
        out("mixed / alone (rates; target >= 0.7):")
        for kind in KINDS:
            ratio = mixed[kind].rate / alone[kind].rate if alone[kind].rate else float("nan")
            p99 = (sorted(mixed[kind].latencies)[int(len(mixed[kind].latencies) * 0.99)] /
                   sorted(alone[kind].latencies)[int(len(alone[kind].latencies) * 0.99)]
                   if mixed[kind].latencies and alone[kind].latencies else float("nan"))
            out(f"   {kind:<10} rate {ratio:5.2f}   p99 {p99:5.2f}x")
        try:
            await baseline(database, before, 4, args.results, meter)
        except OperationFailure as exc:  # concurrent raw transactions conflicting on the embedded database
            out(f"  raw insert_many (baseline) failed: {exc.details.get('codeName') if exc.details else exc}")
        out(f"load average after: {os.getloadavg()}")
    finally:
        await people.close()
        if database is not None:
            await database.close()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--results", type=int, default=10, help="results per analyzer message (1..20)")
    parser.add_argument("--tubes", type=int, default=20)
    parser.add_argument("--report-results", type=int, default=6, help=f"results per report (1..{len(REPORT_CODES)})")
    asyncio.run(main(parser.parse_args()))
