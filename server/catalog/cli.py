"""``sgl catalog ...``: LOINC transcoding files from the command line (SGL.LOI.01–07, 10).

Works on the database of ``--data-dir`` whether or not ``sgl serve`` is running on it (the
embedded database is shared, see ``server/database.py``) or on ``SGL_MONGODB_URI``. The
catalogue is loaded from the seed first if the database has none yet (as ``sgl serve`` does).

Exit codes: 0 done; 1 the import report has blocking errors (the other lines were applied);
2 nothing was done (unreadable file, unknown file kind, catalogue changed meanwhile...).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from resources.errors import SglError
from resources.interactions import WriteRule
from server.access.caller import Caller, system
from server.access.cli_role import as_role_option, operator_for
from server.catalog.exporting import export_catalog, export_day
from server.catalog.importing import apply_import, circuit_codes, read_concept_map_import, read_import
from server.catalog.seed import seed_catalog
from server.catalog.writer import caller_write_rule
from server.database import Database, open_database
from server.settings import Settings
from server.wiring import write_rules_for
from terminology import ImportResult

__all__ = ["catalog"]

_T = TypeVar("_T")


class NothingDone(click.ClickException):
    exit_code = 2


def _run(settings: Settings, work: Callable[[Database], Awaitable[_T]]) -> _T:
    """Open the database, make sure the catalogue is there, run ``work``, close; errors -> exit code 2."""

    async def run() -> _T:
        database = await open_database(settings)
        try:
            await seed_catalog(database.store, write_rule=_write_rule(settings, system("seed")))
            return await work(database)
        finally:
            await database.close()

    try:
        return asyncio.run(run())
    except SglError as exc:
        where = ", ".join(exc.expression)
        raise NothingDone(exc.diagnostics + (f" [{where}]" if where else "")) from exc


def _write_rule(settings: Settings, caller: Caller) -> WriteRule:
    return caller_write_rule(write_rules_for(settings), caller)


_data_dir = click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
                         help="Data directory of the embedded database (shared with a running server); "
                              "ignored when SGL_MONGODB_URI is set.")


@click.group("catalog")
def catalog() -> None:
    """The analysis catalogue and its LOINC transcoding files (LOINC_1 to LOINC_6)."""


@catalog.command("export")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the three files into (created if missing).")
@_data_dir
@as_role_option("biologiste")
def export(directory: Path, data_dir: Path, as_role: str) -> None:
    """Write LOINC_1 (chapters), LOINC_2 (orderable exams) and LOINC_3 (result analyses) for today.

    The files are named LOINC_<n>_export_<kind>_<YYYYMMDD>.csv, ';'-separated, UTF-8 with BOM,
    with the French column headers of the Ségur specification.
    """
    operator_for(as_role, "CodeSystem", "$loinc-export")
    paths = _run(Settings(data_dir=data_dir), lambda db: export_catalog(db.store, directory, export_day()))
    for path in paths:
        click.echo(str(path))


def _read(db: Database, file: Path, circuit: frozenset[str]) -> Awaitable[ImportResult]:
    if file.suffix.lower() == ".json":
        try:
            concept_map = json.loads(file.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise NothingDone(f"cannot read the ConceptMap {file}: {exc}") from exc
        return read_concept_map_import(db.store, concept_map, circuit)
    return read_import(db.store, file, circuit)


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--report", "report_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the line-numbered import report (';' CSV).")
@click.option("--dry-run", is_flag=True, help="Check the file and write the report, change nothing.")
@click.option("--value-set", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="FHIR ValueSet JSON of the 'circuit de la biologie' release to check codes against "
                   "(default: SGL_CIRCUIT_VALUE_SET, else the stand-in shipped with OpenSGL).")
@_data_dir
@as_role_option("biologiste-responsable")
def import_(file: Path, report_path: Path, dry_run: bool, value_set: Path | None, data_dir: Path, as_role: str) -> None:
    """Import a transcoding file from the LOINC provider: LOINC_4 (chapters), LOINC_5 (exams) or LOINC_6
    (analyses), kind taken from the file name; or a FHIR ConceptMap (.json, LOINC_4bis-6bis).

    Lines with a blocking error (several LOINC codes for one element, unknown local code, malformed
    line or code...) are reported and not applied; the other changes are applied together in one
    transaction, or none of them. Codes outside the 'circuit de la biologie' value set are applied
    with a warning. Exits with 1 when the report has blocking errors.
    """
    caller = operator_for(as_role, "ConceptMap", "$loinc-import")
    if not report_path.resolve().parent.is_dir():  # checked first: the report must not be lost after applying
        raise NothingDone(f"the directory of the report {report_path} does not exist")
    settings = Settings(data_dir=data_dir) if value_set is None else Settings(data_dir=data_dir,
                                                                              circuit_value_set=value_set)

    async def work(db: Database) -> tuple[ImportResult, int]:
        result = await _read(db, file, circuit_codes(settings))
        if dry_run or not result.changes:
            return result, 0
        with click.progressbar(length=len(result.changes) + 2, label="Writing the LOINC codes",
                               file=sys.stderr) as bar:
            return result, await apply_import(db.store, result, write_rule=_write_rule(settings, caller), caller=caller,
                                              progress=bar.update)

    result, applied = _run(settings, work)
    result.report.write_csv(report_path)
    click.echo(result.report.summary())
    click.echo(f"{'dry run: nothing applied' if dry_run else f'{applied} LOINC code(s) applied'}; "
               f"report: {report_path}")
    if result.report.blocking:
        raise SystemExit(1)
