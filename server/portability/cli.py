"""``sgl export`` and ``sgl import`` (SGL.PORT.01), on the database of ``--data-dir`` (shared with a running
server) or ``SGL_MONGODB_URI``.

``sgl export DIR`` writes the Bulk Data files of the whole store or a selection, with a progress line per
type; run it again on the same DIR after an interruption and it resumes where it stopped. ``sgl import DIR``
restores an export into an empty store. Exit codes: 0 done; 2 nothing done (the reason on stderr).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import click
from pymongo.errors import ConnectionFailure

from resources.search.date import now_utc
from server.cli_database import run_with_database
from server.database import Database
from server.portability.engine import CHECKPOINT, Exporter
from server.portability.importing import import_export
from server.portability.jobs import Job, load_job
from server.portability.selection import Selection, checked, years_back

__all__ = ["export_command", "import_command"]
_T = TypeVar("_T")
_JOB_FILE = ".export-job"
CONNECTION_RETRIES = 5
"""Times ``sgl export`` resumes by itself after the database connection fails (each resume redoes at most one
checkpoint); the same export run again by hand resumes too."""

_data_dir = click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
                         help="Data directory of the embedded database (shared with a running server); "
                              "ignored when SGL_MONGODB_URI is set.")


class NothingDone(click.ClickException):
    exit_code = 2


def _run(data_dir: Path, work: Callable[[Database], Awaitable[_T]]) -> _T:
    """The work on the database; a refusal is exit code 2, nothing done."""
    try:
        return run_with_database(data_dir, work)
    except click.ClickException as exc:
        raise NothingDone(exc.message) from exc


def _progress(label: str, count: int) -> None:
    click.echo(f"\r{label}: {count}", err=True, nl=False)
    sys.stderr.flush()


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--type", "types", multiple=True, help="Only these resource types (repeatable).")
@click.option("--patient", "patients", multiple=True, help="Only these patients' compartments (Patient id).")
@click.option("--years", type=int, default=None, help="Depth: resources changed in the last N years (1-20).")
@click.option("--since", type=click.DateTime(), default=None, help="Resources changed since this date (UTC).")
@click.option("--crbio", is_flag=True, help="Also write the CR-Bio documents (N3, N1, PDF) and crbio.csv.")
@click.option("--checkpoint", type=click.IntRange(1, 100000), default=CHECKPOINT, show_default=True,
              help="Resources written between two durable checkpoints (what a resume may redo).")
@_data_dir
def export_command(directory: Path, types: tuple[str, ...], patients: tuple[str, ...], years: int | None,
                   since: datetime | None, crbio: bool, checkpoint: int, data_dir: Path) -> None:
    """Export the store as FHIR Bulk Data (manifest.json + one <Type>.ndjson per type) into DIRECTORY;
    resumes an interrupted export of the same DIRECTORY."""
    marker = directory / _JOB_FILE

    async def work(database: Database) -> Job:
        job = await load_job(database.db, marker.read_text().strip()) if marker.exists() else None
        if job is not None and job.status == "complete":
            raise click.ClickException(f"{directory} already holds a complete export")
        if job is None:
            start = years_back(now_utc(), years) if years else since
            selection = checked(Selection("patient" if patients else "system", types, patients, start, crbio))
            job = Job(Job.new("cli", directory.parent, selection, "sgl export").id, "cli", str(directory),
                      selection.document(), "sgl export")
            directory.mkdir(parents=True, exist_ok=True)
            await database.db["export_jobs"].insert_one(job.document())
            marker.write_text(job.id)
        else:
            click.echo(f"resuming export {job.id}", err=True)
        for attempt in range(1, CONNECTION_RETRIES + 1):
            try:
                return await Exporter(database.db, job, progress=_progress, checkpoint=checkpoint).run()
            except ConnectionFailure as exc:  # the database stopped answering for a while (a busy machine)
                if attempt == CONNECTION_RETRIES:
                    raise
                click.echo(f"\nthe database connection failed ({type(exc).__name__}); resuming from the last "
                           f"checkpoint (attempt {attempt + 1} of {CONNECTION_RETRIES})", err=True)
                await asyncio.sleep(attempt)
                job = await load_job(database.db, job.id) or job  # the durable checkpoint, not the memory
        raise AssertionError("unreachable")

    job = _run(data_dir, work)
    click.echo("", err=True)
    click.echo("type;count")
    for rtype, cursor in job.cursors.items():
        click.echo(f"{rtype};{cursor['count']}")


@click.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_data_dir
def import_command(directory: Path, data_dir: Path) -> None:
    """Read an export (manifest.json + ndjson files) back into an empty store."""
    counts = _run(data_dir, lambda database: import_export(database.store, directory, progress=_progress))
    click.echo("", err=True)
    click.echo("type;count")
    for rtype, count in counts.items():
        click.echo(f"{rtype};{count}")
