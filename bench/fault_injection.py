"""Fault injection: results stream in while the database, the server or both are killed with ``kill -9``.

    .venv/bin/python -m bench.fault_injection [--kills 20] [--seed 1] [--gap 1.0 4.0] [--max-seconds 900]

Starts ``sgl serve`` (embedded SecantusDB) on a fresh data dir and fixed loopback ports, stores the
seed catalogue and a few ordered tubes, then runs three senders at once (``bench/fault_traffic.py``):
an hematology analyzer (HL7 ORU^R01 over MLLP), a biochemistry analyzer (ASTM) and a FHIR client
(conditional creates). At random moments it kills, with SIGKILL, the database, the ``sgl`` server, or
both; a killed server is started again on the same ports (as systemd would); a killed database must be
brought back by ``sgl`` itself, else the run counts an operator restart and restarts the server.

At the end it reads everything back over FHIR and prints, per stream: sent, acknowledged, stored,
lost (acknowledged but not stored: must be 0) and doubled (stored more than once: must be 0), plus
the inbound journal entries replayed and left ``received``, and the HTTP answers other than 503 in
the 5xx range (must be 0). Exit status 1 when anything was lost or doubled, or a 500 was answered.
``tests/bench/test_fault_injection.py`` runs a reduced version in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from bench.fault_traffic import FHIR_ID_SYSTEM, Ledger, ResultKey, astm_sender, fhir_sender, hl7_sender
from server.embedded_auth import read_credentials
from tests.support.access import auth_for
from tests.support.analyzer_lab import new_tube, seed_catalog
from tests.support.sgl_server import SglProcess, server_ports, start_sgl

EXT_INSTRUMENT_RESULT = "https://opensgl.org/fhir/StructureDefinition/instrument-result"
TARGETS = ("database", "server", "both")
TUBES_PER_ANALYZER = 4
REPLAYED = re.compile(r"inbound journal: (\d+) message\(s\) left 'received' by the last run replayed")


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class Outcome:
    """The run's figures; ``lost`` and ``doubled`` must both be 0."""

    kills: Counter[str] = field(default_factory=Counter)
    self_recoveries: list[float] = field(default_factory=list)
    """Seconds from killing the database alone to ``sgl`` answering from a new one."""
    operator_restarts: int = 0
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    journal_left_received: int = -1
    replayed: int = 0
    """Journal entries the restarted servers found ``received`` and processed again (from their logs)."""

    @property
    def lost(self) -> int:
        return sum(r["lost"] for r in self.rows.values())

    @property
    def doubled(self) -> int:
        return sum(r["doubled"] for r in self.rows.values())

    server_errors: int = 0
    """HTTP 5xx answers other than 503 (a database outage must be a 503, never a 500)."""

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.doubled == 0 and self.server_errors == 0


class Target:
    """The ``sgl serve`` under test, restarted on the same ports and data dir after each kill."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = server_ports()
        self.sgl: SglProcess = start_sgl(data_dir, ports=self.ports)

    @property
    def base(self) -> str:
        return self.sgl.base

    def database_pid(self) -> int | None:
        try:
            return int(json.loads((self.data_dir / "secantus.json").read_text())["pid"])
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def database_port(self) -> int:
        return int(json.loads((self.data_dir / "secantus.json").read_text())["port"])

    def kill(self, what: str) -> None:
        pids = []
        if what in ("server", "both"):
            pids.append(self.sgl.process.pid)
        if what in ("database", "both"):
            pid = self.database_pid()
            if pid is not None:
                pids.append(pid)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if what in ("server", "both"):
            self.sgl.process.wait(timeout=30)

    def restart(self) -> None:
        if self.sgl.process.poll() is None:
            self.sgl.process.kill()
            self.sgl.process.wait(timeout=30)
        self.sgl = start_sgl(self.data_dir, ports=self.ports)

    async def answers(self, http: httpx.AsyncClient, within: float) -> bool:
        """True once a read that needs the database succeeds (within ``within`` seconds)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                if (await http.get(f"{self.base}/Observation", params={"_count": "1"}, timeout=5)).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        return False


async def _killer(target: Target, kills: int, gap: tuple[float, float], recover_s: float, rng: random.Random,
                  outcome: Outcome, deadline: float, auth: httpx.Auth) -> None:
    order = [TARGETS[i % 3] for i in range(kills)]
    rng.shuffle(order)
    async with httpx.AsyncClient(auth=auth) as http:
        for what in order:
            if time.monotonic() > deadline:
                out(f"time budget spent after {sum(outcome.kills.values())} kills")
                return
            await asyncio.sleep(rng.uniform(*gap))
            killed_at = time.monotonic()
            await asyncio.to_thread(target.kill, what)
            outcome.kills[what] += 1
            if what == "database":
                if await target.answers(http, recover_s):
                    outcome.self_recoveries.append(time.monotonic() - killed_at)
                    continue
                out(f"kill {sum(outcome.kills.values())}: the server did not recover from the database's "
                    f"death within {recover_s:.0f} s: operator restart")
                outcome.operator_restarts += 1
            await asyncio.to_thread(target.restart)
            await target.answers(http, recover_s)


def _result_key(obs: dict[str, Any], accession_of: dict[str, str]) -> ResultKey | None:
    ext = next((e for e in obs.get("extension", ()) if e.get("url") == EXT_INSTRUMENT_RESULT), None)
    if ext is None:
        return None
    parts = {p["url"]: next(v for k, v in p.items() if k.startswith("value")) for p in ext["extension"]}
    specimen = obs.get("specimen", {}).get("reference", "").removeprefix("Specimen/")
    if specimen not in accession_of or "runTime" not in parts:
        return None
    return (parts.get("analyzer", ""), accession_of[specimen], parts.get("testCode", ""),
            datetime.fromisoformat(parts["runTime"]))


async def _stored(http: httpx.AsyncClient, base: str, accession_of: dict[str, str]) -> tuple[Counter[object], int]:
    """How many times each analyzer result and each FHIR identifier is stored (and unrecognised ones)."""
    counts: Counter[object] = Counter()
    unrecognised = 0
    url: str | None = f"{base}/Observation?_count=500"
    while url:
        bundle = (await http.get(url, timeout=60)).raise_for_status().json()
        for entry in bundle.get("entry", ()):
            obs = entry["resource"]
            ident = next((i["value"] for i in obs.get("identifier", ()) if i.get("system") == FHIR_ID_SYSTEM), None)
            key: object = ident if ident is not None else _result_key(obs, accession_of)
            if key is None:
                unrecognised += 1
            else:
                counts[key] += 1
        url = next((link["url"] for link in bundle.get("link", ()) if link["relation"] == "next"), None)
    return counts, unrecognised


async def _journal_left_received(target: Target) -> int:
    credentials = read_credentials(target.data_dir)  # the embedded database runs with --auth
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{target.database_port()}/?directConnection=true", serverSelectionTimeoutMS=5000,
        **(credentials.client_options() if credentials is not None else {}))
    try:
        return int(await client["opensgl"]["inbound_messages"].count_documents({"status": "received"}))
    finally:
        await client.close()


def _tally(ledger: Ledger, counts: Counter[object]) -> dict[str, int]:
    stored = {k for k in ledger.sent if counts[k] > 0}
    return {"messages": ledger.messages, "attempts": ledger.attempts, "resends": ledger.resent,
            "sent": len(ledger.sent),
            "acknowledged": len(ledger.acknowledged), "stored": len(stored),
            "stored, not acknowledged": len(stored - ledger.acknowledged),
            "lost": len(ledger.acknowledged - stored), "doubled": sum(1 for k in ledger.sent if counts[k] > 1)}


async def run(kills: int, *, seed: int = 1, gap: tuple[float, float] = (1.0, 4.0), recover_s: float = 30.0,
              max_seconds: float = 900.0, data_dir: Path | None = None) -> Outcome:
    """One fault-injection run; the figures are printed and returned."""
    rng = random.Random(seed)
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="sgl-fault-")) / "var"
    target = Target(data_dir)
    outcome = Outcome()
    try:
        auth = auth_for(target.base, data_dir, "biologiste-responsable")
        async with httpx.AsyncClient(base_url=target.base + "/", timeout=60, auth=auth) as fhir:
            await seed_catalog(fhir)
            hem = [await new_tube(fhir, ("NFS",)) for _ in range(TUBES_PER_ANALYZER)]
            bio = [await new_tube(fhir, ("GLY", "URE", "CREAT", "IONO")) for _ in range(TUBES_PER_ANALYZER)]
        accession_of = {t.specimen_id: t.accession for t in hem + bio}
        ledgers = {"HL7 ORU^R01 / MLLP": Ledger("hl7"), "ASTM E1394 / TCP": Ledger("astm"),
                   "FHIR create": Ledger("fhir")}
        out(f"data dir {data_dir}; {os.cpu_count()} CPUs, load average {os.getloadavg()}")
        stop, give_up = asyncio.Event(), asyncio.Event()
        started = time.monotonic()
        senders = [
            asyncio.create_task(hl7_sender(target.ports[1], [t.accession for t in hem],
                                           ledgers["HL7 ORU^R01 / MLLP"], stop, give_up)),
            asyncio.create_task(astm_sender(target.ports[2], [t.accession for t in bio],
                                            ledgers["ASTM E1394 / TCP"], stop, give_up)),
            asyncio.create_task(fhir_sender(target.base, hem[0].patient_id, ledgers["FHIR create"], stop, give_up,
                                            auth=auth)),
        ]
        try:
            await _killer(target, kills, gap, recover_s, rng, outcome, started + max_seconds, auth)
            await asyncio.sleep(rng.uniform(*gap))  # traffic after the last recovery too
        finally:
            stop.set()
            _, late = await asyncio.wait(senders, timeout=60)
            give_up.set()
            await asyncio.gather(*senders, return_exceptions=True)
        elapsed = time.monotonic() - started
        async with httpx.AsyncClient(auth=auth) as http:
            counts, unrecognised = await _stored(http, target.base, accession_of)
        outcome.rows = {name: _tally(ledger, counts) for name, ledger in ledgers.items()}
        outcome.server_errors = sum(n for reason, n in ledgers["FHIR create"].refusals.items()
                                    if reason.startswith("5") and reason != "503")
        outcome.journal_left_received = await _journal_left_received(target)
        outcome.replayed = sum(int(m) for m in REPLAYED.findall(target.sgl.log.read_text()))
        _report(outcome, ledgers, elapsed, unrecognised, late_senders=len(late))
    finally:
        target.sgl.stop()
    return outcome


def _report(outcome: Outcome, ledgers: dict[str, Ledger], elapsed: float, unrecognised: int,
            late_senders: int) -> None:
    total_kills = sum(outcome.kills.values())
    out(f"{total_kills} kills ({', '.join(f'{k} {v}' for k, v in sorted(outcome.kills.items()))}) "
        f"in {elapsed:.0f} s; load average {os.getloadavg()}")
    columns = ("messages", "attempts", "resends", "sent", "acknowledged", "stored", "stored, not acknowledged",
               "lost", "doubled")
    out("stream;" + ";".join(columns))
    for name, row in outcome.rows.items():
        out(f"{name};" + ";".join(str(row[c]) for c in columns))
    out("total;" + ";".join(str(sum(r[c] for r in outcome.rows.values())) for c in columns))
    for name, ledger in ledgers.items():
        if ledger.refusals:
            out(f"{name} unacknowledged attempts: {dict(ledger.refusals)}")
    recoveries = sorted(outcome.self_recoveries)
    if recoveries:
        out(f"database killed alone: {len(recoveries)} recovered by sgl itself, median "
            f"{recoveries[len(recoveries) // 2]:.1f} s, max {recoveries[-1]:.1f} s")
    out(f"operator restarts (sgl did not recover from a dead database): {outcome.operator_restarts}")
    out(f"inbound journal: {outcome.replayed} entries replayed at restarts, "
        f"{outcome.journal_left_received} left 'received' at the end")
    if unrecognised:
        out(f"Observations not recognised as sent by this run: {unrecognised}")
    if late_senders:
        out(f"senders still waiting for an acknowledgement at the end: {late_senders}")
    out(f"lost: {outcome.lost} (must be 0), doubled: {outcome.doubled} (must be 0), HTTP 5xx other than 503: "
        f"{outcome.server_errors} (must be 0) -> {'OK' if outcome.ok else 'FAILED'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="how many kill -9 (database, server, both in turn)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the kill moments and targets")
    parser.add_argument("--gap", type=float, nargs=2, default=(1.0, 4.0), metavar=("MIN", "MAX"),
                        help="seconds of traffic between a recovery and the next kill")
    parser.add_argument("--recover", type=float, default=30.0, help="seconds sgl gets to recover from a dead database")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="time budget for the kills")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a fresh temporary directory")
    args = parser.parse_args()
    result = asyncio.run(run(args.kills, seed=args.seed, gap=tuple(args.gap), recover_s=args.recover,
                             max_seconds=args.max_seconds, data_dir=args.data_dir))
    sys.exit(0 if result.ok else 1)
