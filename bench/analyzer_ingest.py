"""Benchmark: analyzer results in over real MLLP and ASTM sockets, durable before each ACK.

    .venv/bin/python -m bench.analyzer_ingest [--messages 200] [--results 20] [--connections 4] [--tubes 20]
                                             [--protocol both|hl7|astm]

Starts ``sgl serve`` as a subprocess on a fresh data dir (embedded SecantusDB), stores the seed
catalogue and ``--tubes`` tubes each ordered with ten biochemistry exams (20 BIO1 analyses), then
sends ``--messages`` result messages per protocol (``--results`` results each, all matched, each
message a new run so nothing is a duplicate) from ``--connections`` concurrent analyzer
connections. Prints sustained results/s and the p50/p99 latency from send to ACK (HL7 AA, ASTM
final-frame ACK + EOT), then checks that the store holds exactly one Observation per result sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from facades.astm import AstmClient, Header, Message, Order, Patient, Result, build_message
from facades.astm import TestId as AstmTestId
from facades.hl7v2 import MllpClient
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


async def run(name: str, server: SglProcess, texts: list[str], connections: int, results: int) -> int:
    sender = hl7_sender if name == "HL7 ORU^R01 / MLLP" else astm_sender
    latencies: list[float] = []
    shares = [texts[i::connections] for i in range(connections)]
    start = time.perf_counter()
    await asyncio.gather(*(sender(server, share, latencies) for share in shares))
    elapsed = time.perf_counter() - start
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    out(f"{name:<20} {len(texts)} messages x {results} results in {elapsed:6.1f} s: "
        f"{len(texts) * results / elapsed:7.1f} results/s, {len(texts) / elapsed:6.1f} messages/s, "
        f"ACK p50 {statistics.median(ms):7.1f} ms, p99 {p99:7.1f} ms")
    return len(texts) * results


async def main(args: argparse.Namespace) -> None:
    server = start_sgl(Path(tempfile.mkdtemp(prefix="sgl-bench-analyzers-")) / "var")
    try:
        async with role_client(server.base, server.data_dir, "biologiste-responsable", timeout=60) as fhir:
            await seed_catalog(fhir)
            tubes = [await new_tube(fhir, EXAMS) for _ in range(args.tubes)]
            out(f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()}")
            sent = 0
            offset = 0
            for name, build in (("HL7 ORU^R01 / MLLP", oru), ("ASTM E1394 / TCP", astm)):
                if args.protocol not in ("both", name.split()[0].lower()):
                    continue
                texts = [build(tubes[n % len(tubes)], offset + n, args.results) for n in range(args.messages)]
                offset += args.messages
                sent += await run(name, server, texts, args.connections, args.results)
            out(f"load average after: {os.getloadavg()}")
            count = (await fhir.get("Observation", params={"_summary": "count"})).json()["total"]
            tasks = (await fhir.get("Task", params={"_summary": "count"})).json()["total"]
            out(f"store: {count} Observations for {sent} results sent, {tasks} worklist Tasks "
                f"({'OK' if count == sent and tasks == 0 else 'MISMATCH'})")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200, help="result messages per protocol")
    parser.add_argument("--results", type=int, default=20, choices=range(1, len(TESTS) + 1), metavar="1..20")
    parser.add_argument("--connections", type=int, default=4, help="concurrent analyzer connections")
    parser.add_argument("--tubes", type=int, default=20)
    parser.add_argument("--protocol", choices=("both", "hl7", "astm"), default="both")
    asyncio.run(main(parser.parse_args()))
