"""Benchmark: ``sgl annuaire load`` of a synthetic PS_LibreAcces_Personne_activite extraction.

    .venv/bin/python -m bench.annuaire [--people 20000] [--keep] [--first-only | --skip-same] [--no-baselines]

Writes an extraction of ``--people`` professionals in the ANS shape (tests/support/annuaire_files.py; the
real file has about 2 million lines for 1.2 million people: ``--people 1833000`` writes 2,000,000 lines) to
a fresh data directory, then runs, as an operator would, ``sgl annuaire load`` three times: the first load
(everything added), a reload of the same file (everything unchanged) and a reload with 1 % of the names
changed, which must report exactly those Practitioners changed and nothing else. For each: lines per second,
CPU seconds of ``sgl`` and of its embedded database per 1,000 lines, and the peak RSS (VmHWM) of each. While a
load runs, every ``--every`` seconds the log gets the progress bar as ``sgl`` draws it (on a terminal of its
own) and the current RSS of both processes: whether memory stays flat is read there. Each phase's figures are
logged as soon as it ends (a long run is read while it goes on).

Baselines in the same run (left out by ``--no-baselines``, for the largest runs): reading and mapping the file
without a database; a raw unordered ``insert_many`` of the very documents the load stores (the file mapped
again, each resource built as the store builds it, batches of 2,000 lines) into collections without indexes,
and into collections with the same indexes as the store's. The ratios printed are the load's lines/s over each.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pymongo.asynchronous.collection import AsyncCollection

from tests.support.annuaire_files import write_ps

log = logging.getLogger("bench")
SGL = str(Path(sys.executable).parent / "sgl")
TYPES = ("Practitioner", "PractitionerRole", "Organization")
RAW_BATCH = 2000
TICK = os.sysconf("SC_CLK_TCK")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _status(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` figure in kB (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) the process used so far, all its threads."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _database(pid: int) -> int:
    """The embedded database ``pid`` started (0 while there is none: at its first start ``sgl`` runs one briefly
    to create the database user, then the real one)."""
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return 0
    for child in children:
        try:
            if b"secantusd" in Path(f"/proc/{child}/cmdline").read_bytes():
                return child
        except OSError:
            continue
    return 0


class _Terminal:
    """The ``sgl`` process's stderr on a pseudo-terminal of its own (its progress bar is drawn only on a
    terminal); keeps the last state of the bar."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self.last = ""
        self.text = ""
        self.reader = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096).decode("utf-8", "replace")
            except OSError:  # the other side is closed
                return
            if not chunk:
                return
            self.text = (self.text + ANSI.sub("", chunk))[-20000:]
            bars = [p.strip() for p in re.split(r"[\r\n]", self.text) if "%" in p and "[" in p]
            if bars:
                self.last = bars[-1][:bars[-1].rfind("%") + 1]  # a log line may follow the bar's last state


def run_load(args: list[str], every: float) -> tuple[float, dict[str, float], str, str]:
    """Run ``args`` (an ``sgl annuaire load``), logging its progress bar and memory every ``every`` s.
    (seconds, figures, stdout, the last progress bar)."""
    terminal = _Terminal()
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "COLUMNS": "100"}
    start = time.perf_counter()
    figures = {"sgl_hwm": 0.0, "db_hwm": 0.0, "sgl_cpu": 0.0, "db_cpu": 0.0}
    cpu_of: dict[int, float] = {}  # per database process (the one that creates the user, then the real one)
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=terminal.slave, text=True, env=env) as process:
        os.close(terminal.slave)
        terminal.reader.start()
        out: list[str] = []
        drain = threading.Thread(target=lambda: out.append(process.stdout.read() if process.stdout else ""),
                                 daemon=True)
        drain.start()
        database = 0
        next_log = start + every
        while process.poll() is None:
            if not _status(database, "VmRSS"):
                database = _database(process.pid)
            figures["sgl_hwm"] = max(figures["sgl_hwm"], _status(process.pid, "VmHWM") / 1024)
            if database:
                figures["db_hwm"] = max(figures["db_hwm"], _status(database, "VmHWM") / 1024)
                cpu_of[database] = max(cpu_of.get(database, 0.0), _cpu(database))
                figures["db_cpu"] = sum(cpu_of.values())
            figures["sgl_cpu"] = max(figures["sgl_cpu"], _cpu(process.pid))
            if time.perf_counter() >= next_log:
                next_log += every
                log.info(f"  {time.perf_counter() - start:7.0f} s | {terminal.last} | RSS sgl "
                         f"{_status(process.pid, 'VmRSS') / 1024:.0f} MB, database "
                         f"{_status(database, 'VmRSS') / 1024:.0f} MB | load {os.getloadavg()[0]:.1f}")
            time.sleep(0.2)
        drain.join(timeout=30)
    terminal.reader.join(timeout=5)
    os.close(terminal.master)
    seconds = time.perf_counter() - start
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}): {terminal.text[-2000:]}")
    return seconds, figures, "".join(out), terminal.last


def _parse_only(path: Path) -> float:
    from facades.annuaire import Rejected, activity, open_extractions, rows

    start = time.perf_counter()
    with open_extractions(path) as sources:
        for source in sources:
            for row in rows(source.lines):
                if not isinstance(row, Rejected):
                    activity(row, [])
    return time.perf_counter() - start


async def _raw_insert(data: Path, ps: Path, *, indexed: bool) -> tuple[int, float]:
    """(documents, seconds): the documents the load stores (the file mapped again, each resource as the store
    writes it) inserted with unordered ``insert_many`` in batches of 2,000 lines into collections without
    indexes, or with the store's indexes (``indexed``), timing only the inserts."""
    from facades.annuaire import Rejected, activity, open_extractions, rows
    from resources.store.indexes import current_indexes, unique_indexes
    from server.database import open_database
    from server.settings import Settings

    opened = time.perf_counter()
    database = await open_database(Settings(data_dir=data))
    log.info(f"raw insert: database opened in {time.perf_counter() - opened:.1f} s")
    documents, seconds = 0, 0.0
    # new collections each time, left in place: SecantusDB drops a collection by deleting its index entries one
    # by one (minutes for a few thousand documents with indexes); the data directory goes at the end anyway
    suffix = "indexed" if indexed else "bare"
    targets = {t: database.db[f"bench_raw_{suffix}_{int(time.time())}_{t}"] for t in TYPES}
    written: set[str] = set()
    try:
        for rtype, target in targets.items():
            if indexed:
                await target.create_indexes([*current_indexes(rtype, engine=database.store.engine),
                                             *unique_indexes(rtype)])
        with open_extractions(ps) as sources:
            for source in sources:
                batch: dict[str, dict[str, dict[str, object]]] = {t: {} for t in TYPES}
                for n, row in enumerate(rows(source.lines), 1):
                    if not isinstance(row, Rejected):
                        act = activity(row, [])
                        for res in (act.practitioner, act.role, act.organization):
                            # each resource once per run, as the load writes it (a site shared by many lines, a
                            # person whose two lines fall on both sides of a batch boundary here)
                            if res and res["id"] not in written:
                                batch[res["resourceType"]][res["id"]] = res
                                written.add(res["id"])
                    if n % RAW_BATCH == 0:
                        documents, seconds = await _insert_batch(database.store, targets, batch, documents, seconds)
                documents, seconds = await _insert_batch(database.store, targets, batch, documents, seconds)
    finally:
        await database.close()
    return documents, seconds


async def _insert_batch(store: object, targets: dict[str, AsyncCollection[dict[str, object]]],
                        batch: dict[str, dict[str, dict[str, object]]], documents: int,
                        seconds: float) -> tuple[int, float]:
    from resources.fhirjson import content_hash
    from resources.search.date import now_utc

    lu = now_utc()
    for rtype, resources in batch.items():
        docs = [store._document(r, 1, lu, content_hash(r), "POST")  # type: ignore[attr-defined]  # noqa: SLF001
                for r in resources.values()]
        if docs:
            seconds += await _timed_insert(targets[rtype], docs)
            documents += len(docs)
        resources.clear()
    return documents, seconds


async def _timed_insert(target: AsyncCollection[dict[str, object]], docs: list[dict[str, object]]) -> float:
    start = time.perf_counter()
    await target.insert_many(docs, ordered=False)
    return time.perf_counter() - start


def _expected(label: str, people: int) -> str:
    """The Practitioner line each load must print: all added, all unchanged, exactly 1 % changed."""
    changed = len(range(0, people, 100))
    return {"first load": f"Practitioner;{people};0;0;0", "same file again": f"Practitioner;0;0;{people};0",
            "1 % changed": f"Practitioner;0;{changed};{people - changed};0"}[label]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--first-only", action="store_true", help="only the first load")
    parser.add_argument("--skip-same", action="store_true",
                        help="no reload of the same file (the 1 %% reload also checks the 99 %% unchanged)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="no parse-only or raw insert baselines (the largest runs)")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between progress lines")
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    work = Path(tempfile.mkdtemp(prefix="sgl-bench-annuaire-"))
    log.info(f"bench.annuaire --people {options.people} in {work}; load average {os.getloadavg()[0]:.1f}")
    ps = write_ps(work / "PS_LibreAcces_Personne_activite_bench.txt", range(options.people))
    lines = sum(1 for _ in ps.open("rb")) - 1
    changed = None if options.first_only else write_ps(
        work / "PS_LibreAcces_Personne_activite_bench2.txt", range(options.people),
        renamed=frozenset(range(0, options.people, 100)))
    log.info(f"extraction: {lines:,} lines, {ps.stat().st_size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f}")
    if not options.no_baselines:
        parse = _parse_only(ps)
        log.info(f"baseline (read + map, no database): {lines / parse:,.0f} lines/s")
    data = work / "var"
    rates: dict[str, float] = {}
    loads = (("first load", ps), ("same file again", ps), ("1 % changed", changed))
    if options.skip_same:
        loads = (loads[0], loads[2])
    for label, path in loads[:1] if options.first_only else loads:
        log.info(f"{label}: starting")
        seconds, figures, out, bar = run_load([SGL, "annuaire", "load", str(path), "--data-dir", str(data)],
                                              options.every)
        for line in (x for x in out.splitlines() if x.startswith(("error;", "inactivation;skipped"))):
            log.info(f"{label}: {line}")  # a load that broke off says why (the figures are then not a full load)
        counts = [x for x in out.splitlines() if x.startswith(TYPES)]
        if not counts:  # the load did not get to its report: what sgl said is the only record of why
            for line in out.splitlines()[-20:]:
                log.info(f"{label}: sgl said: {ANSI.sub('', line)}")
        want = _expected(label, options.people)
        rates[label] = lines / seconds
        log.info(f"{label}: {seconds:.1f} s, {lines / seconds:,.0f} lines/s; CPU per 1,000 lines: sgl "
                 f"{1000 * figures['sgl_cpu'] / lines:.2f} s, database {1000 * figures['db_cpu'] / lines:.2f} s; "
                 f"peak RSS sgl {figures['sgl_hwm']:.0f} MB, embedded database {figures['db_hwm']:.0f} MB; "
                 f"load average {os.getloadavg()[0]:.1f}")
        log.info(f"{label}: last progress bar: {bar}")
        log.info(f"{label}: counts (type;added;changed;unchanged;inactivated): {' '.join(counts)}")
        log.info(f"{label}: expected {want}: {'EXACT' if want in counts else 'NOT AS EXPECTED'}")
    if not options.no_baselines:
        for indexed in (False, True):
            documents, raw = asyncio.run(_raw_insert(data, ps, indexed=indexed))
            kind = "with the store's indexes" if indexed else "no index"
            log.info(f"raw insert_many of the same {documents:,} documents, {kind}: {raw:.1f} s, "
                     f"{documents / raw:,.0f} documents/s = {lines / raw:,.0f} lines/s; "
                     f"load average {os.getloadavg()[0]:.1f}")
            for label, rate in rates.items():
                log.info(f"ratio {label} / raw insert ({kind}): {rate / (lines / raw):.3f}")
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
