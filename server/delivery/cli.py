"""``sgl deliveries list|show|retry|cancel``: the outbox from a terminal, with or without a running server.

Works on the data dir's database (the embedded one is shared with a running ``sgl serve``) or on
``SGL_MONGODB_URI``; a running server picks up a retried delivery at its next look at the queue. The listing is
``;``-separated (French spreadsheet convention). Manual actions are recorded in each delivery's history
with the operating-system user who ran the command.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pymongo.asynchronous.database import AsyncDatabase

from server.cli_database import run_with_database
from server.delivery import manage

T = TypeVar("T")
DATA_DIR = click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
                        help="Data directory of the embedded database (shared with a running server).")
COLUMNS = ("id", "state", "channel", "recipient", "report_id", "version", "action", "attempts", "created",
           "last_answer")


def _run(data_dir: Path, work: Callable[[AsyncDatabase[Any]], Awaitable[T]]) -> T:
    return run_with_database(data_dir, lambda database: work(database.db))


def _who() -> str:
    return f"cli:{getpass.getuser()}"


@click.group()
def deliveries() -> None:
    """The delivery outbox: what was sent where, what failed, send again or cancel."""


@deliveries.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice(manage.STATES),
              help="Only deliveries in this state (repeatable); default: all.")
@click.option("--report", help="Only the deliveries of this DiagnosticReport id.")
@click.option("--limit", default=500, show_default=True, help="At most this many lines.")
@DATA_DIR
def list_(states: tuple[str, ...], report: str | None, limit: int, data_dir: Path) -> None:
    """One line per delivery, oldest first: id;state;channel;recipient;report;version;action;attempts;..."""
    found = _run(data_dir, lambda db: manage.find(db, report_id=report, states=states, limit=limit))
    click.echo(";".join(COLUMNS))
    for delivery in found:
        row = manage.as_json(delivery)
        click.echo(";".join(str(row.get(c, "") or "").replace(";", ",").replace("\n", " ")[:200] for c in COLUMNS))


@deliveries.command()
@click.argument("delivery_id")
@DATA_DIR
def show(delivery_id: str, data_dir: Path) -> None:
    """One delivery as JSON, with every attempt and the partner's answers."""
    found = _run(data_dir, lambda db: manage.one(db, delivery_id))
    click.echo(json.dumps(manage.as_json(found), ensure_ascii=False, indent=2))


@deliveries.command()
@click.argument("delivery_ids", nargs=-1)
@click.option("--all-failed", is_flag=True, help="Every failed delivery (with a progress bar).")
@DATA_DIR
def retry(delivery_ids: tuple[str, ...], all_failed: bool, data_dir: Path) -> None:
    """Send failed, cancelled or blocked deliveries again (fresh attempts)."""
    if not delivery_ids and not all_failed:
        raise click.UsageError("name deliveries, or give --all-failed")

    async def work(db: AsyncDatabase[Any]) -> list[str]:
        ids = list(delivery_ids) or [str(d["_id"]) for d in await manage.find(db, states=("failed",), limit=100_000)]
        done: list[str] = []
        with click.progressbar(ids, label="retry", file=sys.stderr) as bar:
            for delivery_id in bar:
                done += await manage.retry(db, [delivery_id], by=_who())
        return done

    done = _run(data_dir, work)
    click.echo(f"{len(done)} delivery(ies) queued again")


@deliveries.command()
@click.argument("delivery_ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why (kept in the delivery's history).")
@DATA_DIR
def cancel(delivery_ids: tuple[str, ...], reason: str, data_dir: Path) -> None:
    """Cancel pending, failed or blocked deliveries (one in flight is left to its worker)."""
    done = _run(data_dir, lambda db: manage.cancel(db, list(delivery_ids), by=_who(), reason=reason))
    click.echo(f"{len(done)} delivery(ies) cancelled")
