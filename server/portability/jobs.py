"""Export jobs, kept in ``export_jobs`` so that a status URL survives a restart and a job resumes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.fhirjson import instant
from resources.search.date import now_utc
from server.portability.selection import Selection

JOBS = "export_jobs"


@dataclass
class Job:
    id: str
    owner: str
    directory: str
    selection: dict[str, Any]
    request: str
    status: str = "in-progress"
    created: datetime = field(default_factory=now_utc)
    finished: datetime | None = None
    cursors: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def new(cls, owner: str, root: Path, selection: Selection, request: str) -> Job:
        rid = uuid.uuid4().hex
        return cls(rid, owner, str(root / rid), selection.document(), request)

    def document(self) -> dict[str, Any]:
        return {"_id": self.id, "owner": self.owner, "directory": self.directory, "selection": self.selection,
                "request": self.request, "status": self.status, "created": self.created, "finished": self.finished,
                "cursors": self.cursors, "error": self.error}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Job:
        return cls(doc["_id"], doc["owner"], doc["directory"], doc["selection"], doc["request"], doc["status"],
                   doc["created"], doc.get("finished"), doc.get("cursors") or {}, doc.get("error"))

    def written(self) -> int:
        return sum(int(c.get("count", 0)) for c in self.cursors.values())

    def manifest(self, url: Callable[[str], str]) -> dict[str, Any]:
        """The Bulk Data completion manifest; ``url`` turns a file name into its URL (or keeps it relative)."""
        output = [{"type": rtype, "url": url(f"{rtype}.ndjson"), "count": c["count"]}
                  for rtype, c in self.cursors.items() if rtype != "crbio" and c.get("count")]
        manifest: dict[str, Any] = {"transactionTime": instant(self.created), "request": self.request,
                                    "requiresAccessToken": True, "output": output, "error": []}
        crbio = self.cursors.get("crbio")
        if crbio is not None:
            manifest["extension"] = {"crbio": {"index": url("crbio.csv"), "count": crbio["count"]}}
        return manifest


async def load_job(db: AsyncDatabase[Any], rid: str) -> Job | None:
    doc = await db[JOBS].find_one({"_id": rid})
    return Job.from_document(doc) if doc else None
