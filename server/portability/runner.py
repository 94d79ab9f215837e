"""Export jobs run by the server: one asyncio task per job, started at kick-off and, at start-up, for every
job a previous run of the server left in progress (the export resumes from its checkpoint)."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from server.portability.engine import Cancelled, Exporter
from server.portability.jobs import JOBS, Job, load_job

log = logging.getLogger(__name__)
_TASKS: dict[str, asyncio.Task[None]] = {}


async def _run(db: AsyncDatabase[Any], job: Job) -> None:
    try:
        await Exporter(db, job).run()
        log.info("export %s complete: %s resources", job.id, job.written())
    except Cancelled:
        shutil.rmtree(job.directory, ignore_errors=True)
    except asyncio.CancelledError:
        raise  # server shutting down: the job stays in progress and resumes at the next start
    except Exception as exc:  # noqa: BLE001 - the job records the failure; the server goes on
        log.exception("export %s failed", job.id)
        await db[JOBS].update_one({"_id": job.id}, {"$set": {"status": "error", "error": str(exc)}})
    finally:
        _TASKS.pop(job.id, None)


def start(db: AsyncDatabase[Any], job: Job) -> None:
    _TASKS[job.id] = asyncio.create_task(_run(db, job), name=f"export-{job.id}")


async def resume_exports(db: AsyncDatabase[Any]) -> int:
    """Restart the server's in-progress exports (not those of ``sgl export``, which resumes itself)."""
    count = 0
    async for doc in db[JOBS].find({"status": "in-progress", "owner": {"$ne": "cli"}}):
        if doc["_id"] not in _TASKS:
            start(db, Job.from_document(doc))
            count += 1
    return count


async def cancel(db: AsyncDatabase[Any], job: Job) -> None:
    await db[JOBS].update_one({"_id": job.id}, {"$set": {"status": "cancelled"}})
    task = _TASKS.pop(job.id, None)
    if task is not None:
        task.cancel()
    shutil.rmtree(Path(job.directory), ignore_errors=True)


async def current(db: AsyncDatabase[Any], rid: str, owner: str) -> Job | None:
    """The job if it exists, is not cancelled and belongs to ``owner`` (someone else's job is not found)."""
    job = await load_job(db, rid)
    if job is None or job.owner != owner or job.status == "cancelled":
        return None
    return job
