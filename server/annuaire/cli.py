"""``sgl annuaire ...``: load the Annuaire Santé extractions, show the last run, look up MSSanté addresses.

Works on the database of ``--data-dir`` whether or not ``sgl serve`` runs on it, or on
``SGL_MONGODB_URI``. Exit codes: 0 loaded (rejected lines are listed, the rest is loaded); 1 the load
stopped early or inactivated nothing because the file looks damaged; 2 nothing could be read.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from facades.annuaire import ExtractionError, Source
from server.annuaire.lookup import lookup
from server.annuaire.report import LoadReport
from server.annuaire.run import last_run, run_load
from server.cli_database import run_with_database
from server.database import Database

__all__ = ["annuaire"]

_data_dir = click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
                         help="Data directory of the embedded database (shared with a running server); "
                              "ignored when SGL_MONGODB_URI is set.")


_run = run_with_database


class _Bars:
    """One progress bar per file, advanced by the bytes read (stderr, so the report stays clean on stdout)."""

    def __init__(self) -> None:
        self.stack = ExitStack()
        self.current: Any = None
        self.name = ""
        self.done = 0

    def __call__(self, source: Source) -> None:
        if source.name != self.name or source.consumed < self.done:  # a new file, or the same read again
            self.close()
            bar: Any = click.progressbar(length=max(source.size, 1), label=source.name,
                                         file=sys.stderr)
            self.current = self.stack.enter_context(bar)
            self.name, self.done = source.name, 0
        self.current.update(source.consumed - self.done)
        self.done = source.consumed

    def close(self) -> None:
        self.stack.close()
        self.current = None


@click.group("annuaire")
def annuaire() -> None:
    """The Annuaire Santé (RPPS/ADELI directory, MSSanté addresses): load, status, look-up."""


@annuaire.command("load")
@click.argument("sources", nargs=-1, required=True)
@click.option("--mssante", "mssante", multiple=True,
              help="Extraction_Correspondance_MSSante file or URL, loaded before SOURCES.")
@click.option("--ca", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CA bundle for an https URL (the IGC-Santé root for service.annuaire.sante.fr).")
@_data_dir
def load(sources: tuple[str, ...], mssante: tuple[str, ...], ca: Path | None, data_dir: Path) -> None:
    """Load PS_LibreAcces_Personne_activite (a .txt, a zip, or their URL) into Practitioner /
    PractitionerRole / Organization; update what changed, mark inactive what disappeared, and print the
    counts and every rejected line with its number."""
    bars = _Bars()
    every = [*mssante, *sources]

    async def work(database: Database) -> LoadReport:
        return await run_load(database.store, every, data_dir=data_dir, ca=ca, progress=bars)

    try:
        report = _run(data_dir, work)
    except (ExtractionError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        bars.close()
    for line in report.lines():
        click.echo(line)
    for rejection in report.rejected:
        click.echo(f"rejected;{rejection['file']};line {rejection['line']};{rejection['reason']}")
    if not report.complete or report.inactivation.startswith("skipped"):
        raise SystemExit(1)


@annuaire.command("status")
@_data_dir
def status(data_dir: Path) -> None:
    """The last load and its counts."""
    doc = _run(data_dir, lambda database: last_run(database.db))
    if doc is None:
        click.echo("no directory load yet")
        return
    report = LoadReport(doc["_id"], doc["started"], doc["source"], doc.get("finished"), doc.get("files", []),
                        doc.get("counts", {}), doc.get("rejected", []), doc.get("rejected_total", 0),
                        doc.get("complete", False), doc.get("inactivation", ""), doc.get("error"),
                        doc.get("followed", {}))
    click.echo(f"started;{doc['started'].isoformat(timespec='seconds')}Z")
    for line in report.lines():
        click.echo(line)


@annuaire.command("lookup")
@click.option("--identifier", default=None, help="National PS id (8 + RPPS, 0 + ADELI) or an 11-digit RPPS.")
@click.option("--name", default=None, help="Family name (exercise name), exact, case and accents ignored.")
@click.option("--given", default=None, help="Given name, with --name.")
@click.option("--place", default=None, help="Postal code, department or town, with --name.")
@_data_dir
def lookup_command(identifier: str | None, name: str | None, given: str | None, place: str | None,
                   data_dir: Path) -> None:
    """MSSanté addresses of a professional (SGL.ANN.05), as ``address;type;id;name;structure;place``."""
    try:
        found = _run(data_dir, lambda database: lookup(database.db, identifier=identifier, family=name,
                                                       given=given, place=place))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo("address;type;idnat;name;structure;place")
    for e in found:
        click.echo(";".join([e["address"], e["kind"], e.get("idnat") or "", f"{e['given']} {e['family']}".strip(),
                             e.get("structure_name", ""), f"{e.get('postal_code', '')} {e.get('town', '')}".strip()]))
