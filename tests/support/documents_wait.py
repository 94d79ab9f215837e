"""Wait for the document step: the CR-Bio is made after the validating commit (``server/documents/producer.py``),
so a test that needs it polls the report until its ``documents-status`` leaves ``in-progress`` (bounded)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

STATUS_EXTENSION = "https://opensgl.org/fhir/StructureDefinition/documents-status"
DEADLINE_S = 240.0
"""Generous: the first job of a server spawns the process pool (imports WeasyPrint, lxml) and reads the ANS kit's
schematrons, on a loaded machine. 90 s was missed by the fresh-clone CI check of 5 Dec 2026 (load 9-10, nice 19):
test_delivery_dmp_tls polled its report from 21:25:50 to 21:27:21 while the kit was still being read. A bound, not
a pause: a passing test waits only as long as the documents take."""


def documents_status(report: dict[str, Any]) -> dict[str, Any]:
    """``{"status": ..., "version": ..., "location": ..., "reason": ...}`` of the report, or ``{}``."""
    found = next((e for e in report.get("extension", ()) if e.get("url") == STATUS_EXTENSION), None)
    out: dict[str, Any] = {}
    for part in (found or {}).get("extension", ()):
        out[part["url"]] = next(v for k, v in part.items() if k.startswith("value"))
    return out


async def wait_for_documents(client: httpx.AsyncClient, report_id: str, *, expect: str = "ready",
                             deadline: float = DEADLINE_S) -> dict[str, Any]:
    """The report once its documents are made (or failed, when ``expect="failed"``); fails the test after the
    deadline or when the outcome is not the one expected."""
    end = time.monotonic() + deadline
    while True:
        answer = await client.get(f"DiagnosticReport/{report_id}")
        assert answer.status_code == 200, answer.text
        report: dict[str, Any] = answer.json()
        status = documents_status(report).get("status")
        if status not in (None, "in-progress"):
            assert status == expect, documents_status(report)
            return report
        if status is None and expect == "ready" and report.get("presentedForm"):
            return report
        assert time.monotonic() < end, f"DiagnosticReport/{report_id}: documents still {status} after {deadline} s"
        await asyncio.sleep(0.1)


async def crbio(client: httpx.AsyncClient, report_id: str, fmt: str = "pdf") -> httpx.Response:
    """``GET $cr-bio`` once the report's documents are made (the answer is returned as is)."""
    await wait_for_documents(client, report_id)
    return await client.get(f"DiagnosticReport/{report_id}/$cr-bio", params={"format": fmt})
