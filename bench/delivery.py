"""Benchmark of the delivery to the DMP (issue 13): from biological validation to the DMP's acceptance, through
the real server (``sgl serve`` with the outbox) and ``sgl dmp-simulator`` over mutual TLS.

    .venv/bin/python bench/delivery.py [--reports 30]

Preparation (not measured): a qualified patient per report, one order and two results each, technically
validated. Then the reports are validated biologically in one burst (sequentially, through the API) and the
run is read back from the ``deliveries`` collection, all in the server's clock:

- validation: when the ``$validate-biological`` answer came back;
- documents made: when the DMP delivery was written (the document step writes it in the transaction that
  stores the N3 + N1 + PDF, ``server/documents/producer.py``);
- DMP accepted: when the delivery was recorded ``delivered`` (the simulator answered Success after checking
  the VIHF, the XAdES signature and the metadata).

One report goes through first (not counted): the document process pool and the DMP connection are warm. Prints
the document generation rate and the delivery rate (reports/s, both from the first validation) of the same run and
their ratio (the outbox keeps up with the documents when it is about 1: it cannot deliver faster than documents
are made), validation -> documents, documents -> DMP acceptance and validation -> DMP acceptance p50/p99, and the
machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = str(Path(__file__).resolve().parent.parent)
sys.path.insert(0, ROOT)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)  # sgl: this tree

from server.delivery.outbox import COLLECTION  # noqa: E402
from tests.support.delivery_lab import DeliveryLab, delivery_lab  # noqa: E402
from tests.support.dmp import running_dmp_simulator  # noqa: E402
from tests.support.dossiers import patient  # noqa: E402
from tests.support.validation_lab import parameters  # noqa: E402

log = logging.getLogger("bench.delivery")
DEADLINE_S = 600.0


def _ms(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(s * 1000 for s in seconds)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _prepared(dl: DeliveryLab) -> str:
    """A report waiting for its biological validation (two results technically validated)."""
    lab = dl.lab
    pid = await patient(lab)
    (request,) = await lab.order(pid)
    results = [await lab.result(pid, request, code, value) for code, value in (("GLU", 1.02), ("NA", 139))]
    for rid in results:
        assert (await lab.validate(rid)).status_code == 200
    return str((await lab.report_of(results[0]))["id"])


async def _warm_up(dl: DeliveryLab) -> None:
    """One report through the whole path first: the document process pool and the DMP connection are started,
    so the burst measures the steady state."""
    rid = await _prepared(dl)
    answer = await dl.lab.client.post(f"DiagnosticReport/{rid}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    deliveries = dl.lab.store.db[COLLECTION]
    end = time.monotonic() + DEADLINE_S
    while not await deliveries.find_one({"channel": "dmp", "report_id": rid, "state": "delivered"}):
        assert time.monotonic() < end, "the warm-up report did not reach the DMP"
        await asyncio.sleep(0.2)


async def _run(reports: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, running_dmp_simulator(Path(tmp) / "pki") as sim:
        env = {"SGL_DMP_URL": sim.base_url, "SGL_DMP_CERT": str(sim.client_cert), "SGL_DMP_KEY": str(sim.client_key),
               "SGL_DMP_CA": str(sim.ca), "SGL_DOCUMENT_WORKERS": "2", "SGL_DELIVERY_CONCURRENCY": "4"}
        async with delivery_lab(Path(tmp) / "var", env) as dl:
            ids = [await _prepared(dl) for _ in range(reports)]
            await _warm_up(dl)
            validated: dict[str, datetime] = {}
            for rid in ids:  # the burst
                answer = await dl.lab.client.post(f"DiagnosticReport/{rid}/$validate-biological", json=parameters())
                assert answer.status_code == 200, answer.text
                validated[rid] = datetime.now(UTC).replace(tzinfo=None)
            deliveries = dl.lab.store.db[COLLECTION]
            query: dict[str, Any] = {"channel": "dmp", "report_id": {"$in": ids}}
            end = time.monotonic() + DEADLINE_S
            while await deliveries.count_documents({**query, "state": "delivered"}) < reports:
                assert time.monotonic() < end, "the DMP deliveries did not finish in time"
                failed = await deliveries.count_documents({**query, "state": "failed"})
                assert not failed, f"{failed} DMP deliveries failed"
                await asyncio.sleep(0.2)
            done = await deliveries.find(query).to_list()
    first = min(validated.values())
    made = [d["created"] for d in done]
    accepted = [d["delivered"] for d in done]
    doc_rate = reports / (max(made) - first).total_seconds()
    delivery_rate = reports / (max(accepted) - first).total_seconds()
    to_documents = _ms([(d["created"] - validated[d["report_id"]]).total_seconds() for d in done])
    to_dmp = _ms([(d["delivered"] - validated[d["report_id"]]).total_seconds() for d in done])
    to_send = _ms([(d["delivered"] - d["created"]).total_seconds() for d in done])
    log.info("%d reports validated in a burst, each N3 + N1 + PDF/A to the DMP simulator (mutual TLS, VIHF + XAdES)",
             reports)
    last = max(validated.values())
    log.info("validation burst             %6.2f reports/s  (%d in %.1f s)", reports / max(
        (last - first).total_seconds(), 1e-3), reports, (last - first).total_seconds())
    since = [(moment - first).total_seconds() for moment in (min(made), max(made), min(accepted), max(accepted))]
    log.info("documents made from +%.1f s to +%.1f s, accepted by the DMP from +%.1f s to +%.1f s (after the first "
             "validation)", *since)
    log.info("document generation          %6.2f reports/s  (first validation to the last documents)", doc_rate)
    log.info("delivered to the DMP         %6.2f reports/s  (first validation to the last acceptance; x%.2f the "
             "generation rate)", delivery_rate, delivery_rate / doc_rate)
    log.info("validation -> documents      p50 %8.0f ms  p99 %8.0f ms", *to_documents)
    log.info("documents -> DMP accepted    p50 %8.0f ms  p99 %8.0f ms", *to_send)
    log.info("validation -> DMP accepted   p50 %8.0f ms  p99 %8.0f ms", *to_dmp)
    log.info("attempts: %s; load average %.1f on %d CPUs", sorted({d["attempts"] for d in done}), os.getloadavg()[0],
             os.cpu_count() or 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=30)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("httpx", "facades", "server"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(_run(args.reports))


if __name__ == "__main__":
    main()
