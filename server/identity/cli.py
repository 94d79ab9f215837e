"""``sgl identity ...``: identitovigilance tools for the command line.

``sgl identity verify-all [--data-dir DIR] [--report FILE]`` verifies every RECUP/QUAL identity
against the INSi (SGL.INS.58) with a progress bar, as the operator with the role of ``--as-role``
(checked against the permission table), and writes the ``;``-separated report (default
``insi-verification-<UTC timestamp>.csv``). Exit code 0 when every identity is OK, 1 when some are KO
or in error (the report says which).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import click
from tqdm import tqdm

from server.access.caller import Caller
from server.access.cli_role import as_role_option, operator_for
from server.identity.scope import Scope
from server.identity.verify_all import Tally, candidates, verify_all
from server.settings import Settings
from server.wiring import write_rules_for


async def _run(settings: Settings, report: Path, caller: Caller) -> Tally:
    from server.database import open_database

    database = await open_database(settings)
    try:
        scope = Scope(database.store, settings, caller, write_rules_for(settings, database).for_caller(caller))
        ids = await candidates(scope)
        with report.open("w", encoding="utf-8", newline="") as out, tqdm(
                total=len(ids), desc="INSi verification", unit="identity") as bar:
            return await verify_all(scope, ids, out, lambda: bar.update(1))
    finally:
        await database.close()


@click.group()
def identity() -> None:
    """Identitovigilance: INS and INSi tools."""


@identity.command("verify-all")
@click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
              help="Data directory of the embedded database (shared with a running server).")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Report file (;-separated); default insi-verification-<timestamp>.csv in the current directory.")
@as_role_option("secretaire")
def verify_all_command(data_dir: Path, report: Path | None, as_role: str) -> None:
    """Verify every retrieved or qualified identity against the INSi (SGL.INS.58)."""
    target = report or Path(f"insi-verification-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.csv")
    caller = operator_for(as_role, "Patient", "$insi-verify-all")
    tally = asyncio.run(_run(Settings(data_dir=data_dir), target, caller))
    click.echo(f"{tally.checked} verified: {tally.ok} OK, {tally.ko} KO, {tally.errors} in error; report {target}")
    if tally.ko or tally.errors:
        raise SystemExit(1)
