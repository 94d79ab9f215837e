"""The export itself: each resource type streamed by ``_id`` order into ``<Type>.ndjson`` (one resource a
line, the current version), then optionally the CR-Bio documents as files, then ``manifest.json``.

Memory stays flat: a cursor, one line at a time. The export is resumable: every ``CHECKPOINT`` resources
the file is flushed to disk and the job records, per type, the last ``_id`` written, the byte length and
the count. A resumed job (after a crash, ``kill -9``, a restart of the server) truncates each file to its
recorded length and goes on after the recorded ``_id``: nothing is lost or written twice.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from pymongo.asynchronous.database import AsyncDatabase

from resources.fhirjson import dumps
from resources.search.date import now_utc
from server.portability.jobs import JOBS, Job
from server.portability.selection import Selection

CHECKPOINT = 1000
Progress = Callable[[str, int], None]
"""Called with (resource type or ``crbio``, resources written so far of it)."""
_EXTENSIONS = {"application/pdf": "pdf", "text/xml": "xml", "application/xml": "xml"}


class Cancelled(Exception):
    """The job was cancelled (DELETE on its status URL) while it ran."""


class Exporter:
    def __init__(self, db: AsyncDatabase[Any], job: Job, *, progress: Progress | None = None,
                 checkpoint: int = CHECKPOINT) -> None:
        self.db, self.job, self.progress, self.every = db, job, progress, checkpoint
        self.directory = Path(job.directory)

    async def run(self) -> Job:
        self.directory.mkdir(parents=True, exist_ok=True)
        selection = Selection.from_document(self.job.selection)
        for rtype in selection.order():
            await self._type(rtype, selection)
        if selection.crbio:
            await self._crbio(selection)
        self.job.status = "complete"
        self.job.finished = now_utc()
        self._manifest()
        await self._save()
        return self.job

    async def _save(self) -> None:
        current = await self.db[JOBS].find_one({"_id": self.job.id}, projection={"status": 1})
        if current is not None and current["status"] == "cancelled":
            raise Cancelled(self.job.id)
        await self.db[JOBS].replace_one({"_id": self.job.id}, self.job.document(), upsert=True)

    def _open(self, name: str, state: dict[str, Any]) -> Any:
        path = self.directory / name
        handle = path.open("r+b" if path.exists() else "wb")
        handle.truncate(state.get("bytes", 0))
        handle.seek(state.get("bytes", 0))
        return handle

    async def _checkpoint(self, handle: Any, state: dict[str, Any]) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        state["bytes"] = handle.tell()
        await self._save()

    async def _type(self, rtype: str, selection: Selection) -> None:
        state = self.job.cursors.setdefault(rtype, {"last": None, "bytes": 0, "count": 0, "done": False})
        if state["done"]:
            return
        query = selection.query(rtype)
        if state["last"] is not None:
            query = {"$and": [query, {"_id": {"$gt": state["last"]}}]} if query else {"_id": {"$gt": state["last"]}}
        with self._open(f"{rtype}.ndjson", state) as handle:
            cursor = self.db[rtype].find(query, projection={"r": 1}, sort=[("_id", 1)], batch_size=500)
            if not selection.query(rtype):  # the whole type: walk the _id index (SecantusDB otherwise scans the
                cursor = cursor.hint([("_id", 1)])  # collection and sorts it all in memory: 1.4 GB, then a timeout)
            async for doc in cursor:
                handle.write(dumps(doc["r"]) + b"\n")
                state["last"], state["count"] = doc["_id"], state["count"] + 1
                if state["count"] % self.every == 0:
                    await self._checkpoint(handle, state)
                    if self.progress:
                        self.progress(rtype, state["count"])
            state["done"] = True
            await self._checkpoint(handle, state)
        if self.progress:
            self.progress(rtype, state["count"])

    async def _crbio(self, selection: Selection) -> None:
        """Each current CR-Bio document (DocumentReference -> Binary) as a file, listed in ``crbio.csv``."""
        state = self.job.cursors.setdefault("crbio", {"last": None, "bytes": 0, "count": 0, "done": False})
        if state["done"]:
            return
        folder = self.directory / "crbio"
        folder.mkdir(exist_ok=True)
        query: dict[str, Any] = {**selection.query("DocumentReference"), "r.status": "current"}
        if state["last"] is not None:
            query["_id"] = {"$gt": state["last"]}
        new_file = not (self.directory / "crbio.csv").exists()
        with self._open("crbio.csv", state) as index:
            if new_file or not state["bytes"]:
                index.write(b"file;patient;report;format;contentType;sha1;date;size\n")
            async for doc in self.db["DocumentReference"].find(query, projection={"r": 1}, sort=[("_id", 1)]):
                await self._document(doc["r"], folder, index)
                state["last"], state["count"] = doc["_id"], state["count"] + 1
                if state["count"] % 100 == 0:
                    await self._checkpoint(index, state)
            state["done"] = True
            await self._checkpoint(index, state)
        if self.progress:
            self.progress("crbio", state["count"])

    async def _document(self, reference: dict[str, Any], folder: Path, index: Any) -> None:
        for content in reference.get("content", []):
            url = str((content.get("attachment") or {}).get("url", ""))
            if not url.startswith("Binary/"):
                continue
            binary = await self.db["Binary"].find_one({"_id": url.removeprefix("Binary/")}, projection={"r": 1})
            if binary is None:
                continue
            data = base64.b64decode(binary["r"].get("data", ""))
            content_type = binary["r"].get("contentType", "")
            name = f"{reference['id']}.{_EXTENSIONS.get(content_type, 'bin')}"
            (folder / name).write_bytes(data)
            related = ((reference.get("context") or {}).get("related") or [{}])[0].get("reference", "")
            row = [f"crbio/{name}", str((reference.get("subject") or {}).get("reference", "")), related,
                   str((content.get("format") or {}).get("display", "")), content_type,
                   hashlib.sha1(data).hexdigest(), str(reference.get("date", "")), str(len(data))]
            index.write((";".join(row) + "\n").encode())

    def _manifest(self) -> None:
        """``manifest.json`` in the FHIR Bulk Data shape (file names relative to the export directory)."""
        (self.directory / "manifest.json").write_bytes(orjson.dumps(self.job.manifest(lambda name: name),
                                                                    option=orjson.OPT_INDENT_2))
