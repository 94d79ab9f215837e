"""The audit chain in the running server and at the command line (``resources/store/chain.py``):
the server seals new AuditEvent/Provenance links every few seconds; ``sgl audit verify`` seals
what is pending, then proves the chain complete or lists each gap, deletion and alteration."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import click
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from resources.store.chain import ChainReport, seal, verify
from server.settings import Settings

log = logging.getLogger(__name__)
SEAL_EVERY_S = 2.0


async def seal_periodically(db: AsyncDatabase[Any]) -> None:
    while True:
        await asyncio.sleep(SEAL_EVERY_S)
        try:
            while await seal(db) > 0:
                pass
        except PyMongoError as exc:  # the database is down: the next round seals what is pending
            log.warning("audit chain: sealing postponed (%s)", exc)


@click.group("audit")
def audit() -> None:
    """The audit trail (AuditEvent, Provenance): append-only, hash-chained."""


@audit.command("verify")
@click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
              help="Data directory of the embedded database (shared with a running server).")
def verify_command(data_dir: Path) -> None:
    """Prove the audit chain complete: exit 0 and the head hash, or exit 1 listing every gap/alteration."""
    async def run() -> ChainReport:
        from server.database import open_database

        database = await open_database(Settings(data_dir=data_dir))
        try:
            while await seal(database.db) > 0:
                pass
            return await verify(database.db)
        finally:
            await database.close()

    report = asyncio.run(run())
    for problem in report.problems:
        click.echo(f"PROBLEM: {problem}")
    click.echo(f"{report.sealed} link(s) checked, {report.pending} pending; head {report.head}; "
               f"{'complete' if report.complete else 'NOT complete'}")
    if not report.complete:
        raise SystemExit(1)
