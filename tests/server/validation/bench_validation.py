"""Benchmark of the validation workflow (not a test): ``python -m tests.server.validation.bench_validation``.

Starts ``sgl serve`` on a temporary directory (autoverification on or off), creates orders of
8 analyzer results, then times over HTTP: the batch technical validation of each order (flags,
delta check against a previous result, report, Provenance; autoverification when on) and the
biological validation of each report. Prints medians per order and results per second.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from pathlib import Path

from server.database import open_database
from server.settings import Settings
from tests.support.access import ActAs
from tests.support.sgl_server import start_sgl
from tests.support.validation_lab import Lab, seed_definitions

log = logging.getLogger("bench_validation")
_PANEL = [("NA", 140), ("K", 4.2), ("CL", 101), ("CA", 2.3), ("GLU", 0.95), ("UREA", 5.0), ("CREA", 80),
          ("CRP", 2.0)]


async def _order(lab: Lab) -> tuple[list[str], str]:
    patient = await lab.patient()
    [previous] = await lab.order(patient)
    await lab.result(patient, previous, "CREA", 75, when="2026-11-01T08:00:00+01:00", status="final")
    [order] = await lab.order(patient)
    return [await lab.result(patient, order, code, value) for code, value in _PANEL], order


async def _run(orders: int, autoverification: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_sgl(Path(tmp) / "var", env={"SGL_AUTOVERIFICATION": str(autoverification).lower()})
        try:
            database = await open_database(Settings(data_dir=server.data_dir))
            clients = ActAs(server)
            async with await clients.biologist() as client:
                await seed_definitions(client)
                lab = Lab(client, database.store)
                prepared = [await _order(lab) for _ in range(orders)]
                technical, biological = [], []
                for ids, _ in prepared:
                    body = {"resourceType": "Parameters", "parameter": [
                        {"name": "observation", "valueReference": {"reference": f"Observation/{i}"}} for i in ids]}
                    t0 = time.perf_counter()
                    answer = await client.post("Observation/$validate-technical", json=body)
                    technical.append(time.perf_counter() - t0)
                    assert answer.status_code == 200, answer.text
                    report = await lab.report_of(ids[0])
                    t0 = time.perf_counter()
                    answer = await client.post(f"DiagnosticReport/{report['id']}/$validate-biological")
                    biological.append(time.perf_counter() - t0)
                    assert answer.status_code == 200, answer.text
            await database.close()
        finally:
            server.stop()
    per_result = statistics.median(technical) / len(_PANEL)
    log.info("autoverification %s, %d orders of %d results", "on" if autoverification else "off", orders,
             len(_PANEL))
    log.info("  technical validation of one order: median %.0f ms (%.0f ms per result, %.0f results/s)",
             statistics.median(technical) * 1000, per_result * 1000, 1 / per_result)
    log.info("  biological validation (or review) of one report: median %.0f ms", statistics.median(biological) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for autoverification in (False, True):
        asyncio.run(_run(args.orders, autoverification))


if __name__ == "__main__":
    main()
