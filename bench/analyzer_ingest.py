"""Benchmark: analyzer results in over real MLLP and ASTM sockets, durable before each ACK, beside the
store's own speed for the same documents measured in the same run.

    .venv/bin/python -m bench.analyzer_ingest [--messages 200] [--results 10] [--connections 4] [--tubes 20]
                                             [--protocol both|hl7|astm] [--tube-kind both|matched|unknown]

Starts ``sgl serve`` as a subprocess on a fresh data dir (embedded SecantusDB, synchronous commit on),
stores the seed catalogue and ``--tubes`` tubes each ordered with ten biochemistry exams (20 BIO1
analyses), then, per protocol and per kind of tube, sends ``--messages`` result messages (``--results``
results each, each message a new run so nothing is a duplicate) from ``--connections`` concurrent
analyzer connections: *matched* results are on the ordered tubes, *unknown* ones on tubes the lab
never registered (each goes to the worklist with a Task). Prints sustained results/s and the p50/p99
latency from send to ACK (HL7 AA, ASTM final-frame ACK + EOT).

After each phase, the baseline: the Observation documents that phase stored, exactly as stored, are
inserted again into a scratch collection with the Observation collection's indexes, by
``--connections`` concurrent writers, each transaction one ``insert_many`` of one message's results
(what the store itself can do, durable); the ratio is ingest results/s over baseline documents/s. At
the end the store must hold exactly one Observation per result sent (and one Task per unknown one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from facades.astm import AstmClient, Header, Message, Order, Patient, Result, build_message
from facades.astm import TestId as AstmTestId
from facades.hl7v2 import MllpClient
from server.database import Database, open_database
from server.settings import Settings
from tests.support.access import role_client
from tests.support.analyzer_lab import Tube, new_tube, seed_catalog
from tests.support.sgl_server import SglProcess, start_sgl

EXAMS = ("GLY", "URE", "CREAT", "ACURI", "IONO", "CALC", "PHOSP", "BHEP", "LACDH", "CPK")
TESTS = [("GLU", "g/L", "1.02"), ("GLUM", "mmol/L", "5.6"), ("UREA", "mmol/L", "5.1"), ("CREA", "umol/L", "72"),
         ("CREAM", "mg/L", "8.1"), ("UA", "umol/L", "310"), ("NA", "mmol/L", "140"), ("K", "mmol/L", "4.2"),
         ("CL", "mmol/L", "101"), ("CO2", "mmol/L", "26"), ("CA", "mmol/L", "2.35"), ("PHOS", "mmol/L", "1.1"),
         ("AST", "U/L", "25"), ("ALT", "U/L", "22"), ("GGT", "U/L", "30"), ("ALP", "U/L", "80"),
         ("TBIL", "umol/L", "12"), ("DBIL", "umol/L", "3"), ("LDH", "U/L", "190"), ("CK", "U/L", "120")]
START = datetime(2026, 11, 26, 8, 0, 0)
ROOT = str(Path(__file__).resolve().parents[1])
# the server subprocess runs this checkout's code, whatever checkout the virtualenv's editable install names
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def oru(tube: Tube, n: int, results: int) -> str:
    run = (START + timedelta(seconds=n)).strftime("%Y%m%d%H%M%S") + "+0100"
    obx = "".join(f"OBX|{i}|NM|{code}||{value}|{unit}|||||F|||||||BIO1|{run}\r"
                  for i, (code, unit, value) in enumerate(TESTS[:results], 1))
    return (f"MSH|^~\\&|BIO1|LABO|SGL|LABO|{run}||ORU^R01^ORU_R01|B{n}|P|2.5|||||FRA|UNICODE UTF-8\r"
            f"OBR|1||{tube.accession}\r" + obx)


def astm(tube: Tube, n: int, results: int) -> str:
    run = START + timedelta(seconds=n)
    rows = [Result(AstmTestId(code), value=value, units=unit, completed_at=run)
            for code, unit, value in TESTS[:results]]
    return build_message(Message(header=Header(sender=("BIO1",)),
                                 patients=[Patient(orders=[Order(specimen_id=tube.accession, results=rows)])]))


def unknown_tube() -> Tube:
    """A tube the lab never registered: its results are stored on the unmatched-result worklist."""
    return Tube("U" + uuid.uuid4().hex[:10].upper(), "", "", {})


async def hl7_sender(server: SglProcess, texts: list[str], latencies: list[float]) -> None:
    client = MllpClient("127.0.0.1", server.mllp_port, read_timeout=120)
    try:
        for text in texts:
            start = time.perf_counter()
            await client.send(text)  # raises unless AA
            latencies.append(time.perf_counter() - start)
    finally:
        await client.close()


async def astm_sender(server: SglProcess, texts: list[str], latencies: list[float]) -> None:
    async with await AstmClient.connect("127.0.0.1", server.astm_port) as client:
        for text in texts:
            start = time.perf_counter()
            await client.send(text)
            latencies.append(time.perf_counter() - start)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``): what a phase cost it, whatever the load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU spent by the database and by ``sgl serve`` between ``start`` and ``per``."""

    def __init__(self, server: SglProcess, database: Database) -> None:
        assert database.embedded is not None, "the benchmark measures the embedded database"
        self.pids = {"db": database.embedded.pid, "sgl": server.process.pid}
        self.marks: dict[str, float] = {}

    def start(self) -> None:
        self.marks = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def per(self, units: int) -> str:
        """``db X ms, sgl Y ms`` per unit since ``start``."""
        return ", ".join(f"{name} {(cpu_seconds(pid) - self.marks[name]) * 1000 / units:5.2f} ms"
                         for name, pid in self.pids.items())


class OpsMeter:
    """Database operations between ``start`` and ``per`` from the database's own ``serverStatus`` opcounters
    (a find is a query, each inserted document an insert, a commit or a count a command): round trips a
    message costs, whatever the machine's load."""

    KINDS = ("insert", "query", "update", "delete", "getmore", "command")

    def __init__(self, database: Database) -> None:
        self.database = database
        self.marks: dict[str, int] = {}

    async def counters(self) -> dict[str, int]:
        status = await self.database.db.command("serverStatus")
        return {kind: int(status["opcounters"].get(kind, 0)) for kind in self.KINDS}

    async def start(self) -> None:
        self.marks = await self.counters()

    async def per(self, units: int) -> str:
        """``insert X, query Y, ...`` per unit since ``start`` (the two serverStatus calls left out)."""
        now = await self.counters()
        diff = {kind: now[kind] - self.marks[kind] - (2 if kind == "command" else 0) for kind in self.KINDS}
        return ", ".join(f"{kind} {diff[kind] / units:.1f}" for kind in self.KINDS if diff[kind]) + \
            f" (total {sum(diff.values()) / units:.1f})"


def percentile(ms: list[float], q: float) -> float:
    return ms[min(len(ms) - 1, int(len(ms) * q))]


async def run(name: str, server: SglProcess, texts: list[str], connections: int, results: int,
              meter: CpuMeter, ops: OpsMeter, *, quiet: bool = False) -> float:
    """Send ``texts`` over ``connections`` connections at once; print and return the results/s."""
    await ops.start()
    meter.start()
    sender = hl7_sender if name.startswith("HL7") else astm_sender
    latencies: list[float] = []
    shares = [texts[i::connections] for i in range(connections)]
    start = time.perf_counter()
    await asyncio.gather(*(sender(server, share, latencies) for share in shares))
    elapsed = time.perf_counter() - start
    ms = sorted(x * 1000 for x in latencies)
    rate = len(texts) * results / elapsed
    if quiet:
        return rate
    out(f"{name:<30} {len(texts)} msgs x {results} in {elapsed:6.1f} s: {rate:7.1f} results/s, "
        f"ACK p50 {statistics.median(ms):7.1f} ms, p99 {percentile(ms, 0.99):7.1f} ms; "
        f"CPU per result: {meter.per(len(texts) * results)}")
    out(f"{'':<30} database operations per message: {await ops.per(len(texts))}")
    return rate


async def baseline(database: Database, since: set[str], connections: int, results: int, meter: CpuMeter) -> float:
    """Insert the Observation documents stored since ``since`` again, as stored, into a scratch collection
    with the Observation indexes: ``connections`` writers, one transaction per ``insert_many`` of ``results``."""
    source = database.db["Observation"]
    docs = [d async for d in source.find({"_id": {"$nin": list(since)}})]
    scratch = database.db[f"bench_raw_{uuid.uuid4().hex[:8]}"]
    await scratch.drop()
    indexes = [(spec["key"], {k: v for k, v in spec.items() if k not in ("key", "v", "ns")} | {"name": name})
               for name, spec in (await source.index_information()).items() if name != "_id_"]
    for key, options in indexes:
        await scratch.create_index(key, **options)
    for doc in docs:
        doc["_id"] = str(uuid.uuid4())
    # one document first, outside the measure: it sets the indexes' sticky multikey flags, as they are set
    # in the real collection (setting them is a catalogue write every concurrent first insert conflicts on)
    await scratch.insert_one({**docs[0], "_id": "warm-up"})
    batches = [docs[i:i + results] for i in range(0, len(docs), results)]

    async def writer(share: list[list[dict[str, Any]]]) -> None:
        for batch in share:
            async with database.client.start_session() as session, await session.start_transaction():
                await scratch.insert_many(batch, ordered=True, session=session)

    meter.start()
    start = time.perf_counter()
    await asyncio.gather(*(writer(batches[i::connections]) for i in range(connections)))
    elapsed = time.perf_counter() - start
    cost = meter.per(len(docs))
    # the scratch collection is left in the bench's throw-away database: dropping it froze the embedded database
    # for minutes (SecantusDB deletes its index entries under a lock every find waits on)
    rate = len(docs) / elapsed
    out(f"{'  raw insert_many (baseline)':<30} {len(docs)} docs, {len(indexes)} indexes, in {elapsed:6.1f} s: "
        f"{rate:7.1f} docs/s; CPU per document: {cost}")
    return rate


async def observation_ids(database: Database) -> set[str]:
    return {d["_id"] async for d in database.db["Observation"].find({}, projection={"_id": 1})}


async def main(args: argparse.Namespace) -> None:
    server = start_sgl(Path(tempfile.mkdtemp(prefix="sgl-bench-analyzers-")) / "var")
    database = await open_database(Settings(data_dir=server.data_dir))
    try:
        async with role_client(server.base, server.data_dir, "biologiste-responsable", timeout=60) as fhir:
            await seed_catalog(fhir)
            tubes = [await new_tube(fhir, EXAMS) for _ in range(args.tubes)]
            out(f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()}")
            meter = CpuMeter(server, database)
            ops = OpsMeter(database)
            sent = unknown = 0
            offset = 0
            summary = []
            if not args.cold:
                # one matched and one unknown message per protocol, one at a time, before any measure: the
                # first Observations and Tasks a fresh database stores set its indexes' sticky multikey
                # flags (catalogue writes that stall concurrent first inserts for seconds on SecantusDB),
                # which a lab's database did once, long ago; the baseline warms its scratch collection too
                for name, build in (("HL7", oru), ("ASTM", astm)):
                    if args.protocol in ("both", name.lower()):
                        for target in (tubes[0], unknown_tube()):
                            await run(f"{name} warm-up", server, [build(target, offset, args.results)], 1,
                                      args.results, meter, ops, quiet=True)
                            offset += 1
                            sent += args.results
                            unknown += args.results if target is not tubes[0] else 0
            for name, build in (("HL7 ORU^R01 / MLLP", oru), ("ASTM E1394 / TCP", astm)):
                if args.protocol not in ("both", name.split()[0].lower()):
                    continue
                for kind in ("matched", "unknown"):
                    if args.tube_kind not in ("both", kind):
                        continue
                    targets = tubes if kind == "matched" else [unknown_tube() for _ in range(args.tubes)]
                    texts = [build(targets[n % len(targets)], offset + n, args.results) for n in range(args.messages)]
                    offset += args.messages
                    before = await observation_ids(database)
                    rate = await run(f"{name} {kind}", server, texts, args.connections, args.results, meter, ops)
                    raw = await baseline(database, before, args.connections, args.results, meter)
                    summary.append((f"{name} {kind}", rate, raw))
                    sent += args.messages * args.results
                    unknown += args.messages * args.results if kind == "unknown" else 0
            out(f"load average after: {os.getloadavg()}")
            for label, rate, raw in summary:
                out(f"ratio {label:<30} {rate:7.1f} / {raw:7.1f} = {rate / raw:.2f}")
            count = (await fhir.get("Observation", params={"_summary": "count"})).json()["total"]
            tasks = (await fhir.get("Task", params={"_summary": "count"})).json()["total"]
            out(f"store: {count} Observations for {sent} results sent, {tasks} worklist Tasks for {unknown} unknown "
                f"({'OK' if count == sent and tasks == unknown else 'MISMATCH'})")
    finally:
        await database.close()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200, help="result messages per protocol and tube kind")
    parser.add_argument("--results", type=int, default=10, choices=range(1, len(TESTS) + 1), metavar="1..20")
    parser.add_argument("--connections", type=int, default=4, help="concurrent analyzer connections")
    parser.add_argument("--tubes", type=int, default=20)
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up message before the measures (a freshly created database)")
    parser.add_argument("--protocol", choices=("both", "hl7", "astm"), default="both")
    parser.add_argument("--tube-kind", choices=("both", "matched", "unknown"), default="both")
    asyncio.run(main(parser.parse_args()))
