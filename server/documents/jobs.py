"""Document jobs: the validating transaction records *that* a report needs documents; a worker makes them.

One job per report (``document_jobs``, ``_id`` = report id), pinned to the report version the validating
write produces (``report_version``) and to what the documents must show (``source``, the dossier's
fingerprint). A later write of the report re-pins the same job (state back to ``pending``), so a worker
never stores documents for a state that has moved on (it also checks the report's version when it stores).
States: ``pending`` (waiting or being made, see ``lease_owner``), ``done``, ``failed`` (a worklist Task says
why; the next validating write re-pins the job and tries again).
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.codes import DOCUMENTS_STATUS_URL
from resources.search.date import now_utc
from resources.store.base import StoreSession
from server.delivery.lease import PENDING

COLLECTION = "document_jobs"
DONE, FAILED = "done", "failed"
STATUS_EXTENSION = DOCUMENTS_STATUS_URL
"""On the report: ``in-progress`` / ``ready`` / ``failed`` for the version named, and where to fetch it."""


async def record_job(db: AsyncDatabase[Any], session: StoreSession | None, report_id: str, report_version: int,
                     source: str, patient: str | None) -> None:
    """Pin the report's job to this version (in the validating transaction: it commits with the report)."""
    now = now_utc()
    await db[COLLECTION].update_one(
        {"_id": report_id},
        {"$set": {"report_version": report_version, "source": source, "patient": patient, "state": PENDING,
                  "due": now, "recorded": now, "attempts": 0, "error": None, "lease_owner": None,
                  "lease_until": None}},
        upsert=True, session=session)


async def job_of(db: AsyncDatabase[Any], report_id: str) -> dict[str, Any] | None:
    job: dict[str, Any] | None = await db[COLLECTION].find_one({"_id": report_id})
    return job


def status_extension(report_id: str, status: str, version: int, reason: str | None = None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "status", "valueCode": status},
        {"url": "version", "valueInteger": version},
        {"url": "location", "valueString": f"DiagnosticReport/{report_id}/$cr-bio"},
    ]
    if reason:
        parts.append({"url": "reason", "valueString": reason[:1000]})
    return {"url": STATUS_EXTENSION, "extension": parts}


def with_status(report: dict[str, Any], status: str, version: int, reason: str | None = None) -> dict[str, Any]:
    others = [e for e in report.get("extension", ()) if e.get("url") != STATUS_EXTENSION]
    return {**report, "extension": [*others, status_extension(report["id"], status, version, reason)]}


def documents_status(report: dict[str, Any]) -> str | None:
    found = next((e for e in report.get("extension", ()) if e.get("url") == STATUS_EXTENSION), None)
    parts = {p.get("url"): p for p in (found or {}).get("extension", ())}
    return str(parts["status"]["valueCode"]) if "status" in parts else None
