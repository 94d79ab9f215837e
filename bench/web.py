"""Benchmark: the web workbench — time from login to an interactive validation worklist, and the bundle size.

    .venv/bin/python -m bench.web [--results 1000] [--runs 5]

Starts ``sgl serve`` on a fresh data dir (embedded SecantusDB) serving the built SPA (``web/dist``: run
``npm ci && npm run build`` in ``web/`` first), creates the workbench's accounts and ``--results`` analyzer
results waiting for technical validation (orders of 20 results, written through the FHIR API in transaction
Bundles), then ``web/bench/worklist.mjs`` drives Debian's Chromium (playwright-core): for each run a fresh
browser context types the technician's login into the real form and clicks "Se connecter". The clock is the
page's own (``performance.now()``): it starts at the click event and stops at the first painted frame where the
bench worklist (``/paillasse``) shows its table with every row's "Valider" button enabled, the first one on top
at its centre and the last one taking the focus (checked at every frame, in the page). Printed: the median and
worst of ``--runs``; where the time goes (login answered, worklist search answered, rows interactive, count
shown) and the median run's requests in order with their times and sizes (``SGL_WEB_TRACE=FILE`` also writes
that run as JSON); and in the same run the baseline — the page's own worklist search fetched again alone from
the page (the API, no rendering) — with the ratio screen / API.

Bundle: the gzipped size of the files ``index.html`` loads (initial bundle) and of all built assets.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from server.database import open_database
from server.settings import Settings
from tests.support.sgl_server import start_sgl
from tests.support.validation_lab import CATALOG, UCUM, UNITS
from tests.support.workbench import PASSWORD, SERVER_ENV, WEB, Lab, chromium, provisional_patient, seed, web_built

ROOT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)
CODES = sorted(UNITS)


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def bundle_sizes() -> dict[str, int]:
    """Gzipped bytes (level 9, as a server would send them) of the initial files and of every asset."""
    dist = WEB / "dist"
    html = (dist / "index.html").read_text()
    initial = [dist / m.lstrip("/") for m in re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)]
    assets = [p for p in (dist / "assets").iterdir() if p.is_file()]
    size = {p: len(gzip.compress(p.read_bytes(), 9)) for p in {*initial, *assets}}
    page = len(gzip.compress(html.encode(), 9))
    return {"initial": sum(size[p] for p in initial) + page, "all": sum(size.values()) + page,
            "initial_raw": sum(p.stat().st_size for p in initial)}


def _order(patient: str, count: int) -> dict[str, Any]:
    """One order and its ``count`` analyzer results (preliminary, catalogue units) as one transaction."""
    request = f"urn:uuid:{uuid.uuid4()}"
    entries: list[dict[str, Any]] = [{"fullUrl": request, "request": {"method": "POST", "url": "ServiceRequest"},
                                      "resource": {"resourceType": "ServiceRequest", "status": "active",
                                                   "intent": "order", "subject": {"reference": patient},
                                                   "code": {"text": "bilan"}, "requisition": {
                                                       "system": "https://opensgl.org/sid/demande",
                                                       "value": f"B{uuid.uuid4().hex[:8].upper()}"}}}]
    for i in range(count):
        code = CODES[i % len(CODES)]
        entries.append({"request": {"method": "POST", "url": "Observation"}, "resource": {
            "resourceType": "Observation", "status": "preliminary",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory"}]}],
            "code": {"coding": [{"system": CATALOG, "code": code}]}, "subject": {"reference": patient},
            "basedOn": [{"reference": request}], "effectiveDateTime": f"2026-11-23T{7 + i % 10:02d}:00:00+01:00",
            "valueQuantity": {"value": 1 + i % 7, "unit": UNITS[code], "system": UCUM, "code": UNITS[code]}}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


async def prepare(server: Any, results: int) -> None:
    await seed(server, identities_only=True)  # the accounts (and two identities)
    database = await open_database(Settings(data_dir=server.data_dir))
    lab = Lab(server, database.db)
    try:
        analyzer = await lab.client("biologiste-responsable")
        patients = [f"Patient/{await lab.created(analyzer, provisional_patient())}" for _ in range(10)]
        for n, start in enumerate(range(0, results, 20)):
            answer = await analyzer.post("", json=_order(patients[n % len(patients)], min(20, results - start)))
            assert answer.status_code == 200, answer.text[:2000]
    finally:
        for client in lab.clients:
            await client.aclose()
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=1000, help="results waiting for technical validation")
    parser.add_argument("--runs", type=int, default=5, help="logins measured (each in a fresh browser context)")
    args = parser.parse_args()
    missing = web_built()
    if missing:
        sys.exit(missing)
    sizes = bundle_sizes()
    out(f"bundle: initial {sizes['initial'] / 1000:.1f} kB gzipped ({sizes['initial_raw'] / 1000:.1f} kB raw), "
        f"all assets {sizes['all'] / 1000:.1f} kB gzipped (target < 500 kB)")
    with tempfile.TemporaryDirectory(prefix="sgl-bench-web-") as tmp:
        server = start_sgl(Path(tmp) / "var", env=SERVER_ENV, partners=None)
        try:
            asyncio.run(prepare(server, args.results))
            fixture = {"baseUrl": f"http://127.0.0.1:{server.port}", "password": PASSWORD, "chromium": chromium(),
                       "runs": args.runs, "expected": args.results}
            done = subprocess.run(["node", "bench/worklist.mjs"], cwd=WEB, capture_output=True, text=True,
                                  timeout=600, env={**os.environ, "SGL_WEB_BENCH": json.dumps(fixture)})
            if done.returncode != 0:
                sys.exit(f"browser run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
            report = json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            server.stop()
    load = os.getloadavg()[0]
    out(f"{args.results} results waiting; the screen shows {report['rows']} rows (count shown: {report['count']!r})")
    out(f"login -> interactive worklist: median {report['median']:.0f} ms, worst {report['worst']:.0f} ms over "
        f"{args.runs} runs {report['times']} (target < 1000 ms)")
    out(f"  where the time goes (medians, ms after the click): login answered {report['login']:.0f}, worklist "
        f"search answered (first data) {report['data']:.0f}, rows shown and clickable {report['median']:.0f}, "
        f"count shown {report['counted']:.0f}")
    out("  the median run's requests after the click (ms: start -> end, size):")
    for r in report["requests"]:
        out(f"    {r['start']:5d} -> {r['end']:5d}  {r['bytes'] / 1000:6.1f} kB  {r['url'][:110]}")
    out(f"baseline, the page's worklist search alone: median {report['api']:.0f} ms; ratio screen/API "
        f"{report['median'] / max(report['api'], 1):.1f}x; load average {load:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
