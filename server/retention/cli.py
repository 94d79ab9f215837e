"""``sgl retention run [--dry-run]`` and ``sgl retention new-key``: the retention job from a terminal (SGL.DOC.20,
SGL.INS.57), on the data dir's database (shared with a running server) or ``SGL_MONGODB_URI``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from resources.search.date import now_utc
from server.cli_database import run_with_database
from server.retention.envelope import new_master_key
from server.retention.schedule import run_and_record
from server.settings import Settings


@click.group()
def retention() -> None:
    """Archive CR-Bio at 5 years, destroy them at 20, delete identity-document copies at 5 (last activity)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be archived, destroyed and deleted; change nothing.")
@click.option("--now", "at", help="Run as if today were this day (YYYY-MM-DD); default: now.")
@click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
              help="Data directory of the embedded database (shared with a running server).")
def run_command(dry_run: bool, at: str | None, data_dir: Path) -> None:
    """Run the retention job once and print its report (JSON)."""
    try:
        now = datetime.strptime(at, "%Y-%m-%d").replace(hour=12, tzinfo=UTC) if at else now_utc()
    except ValueError as exc:
        raise click.BadParameter(f"{at!r} is not a date (YYYY-MM-DD)", param_hint="--now") from exc
    settings = Settings(data_dir=data_dir)
    report = run_with_database(data_dir, lambda db: run_and_record(db.store, settings, now, dry_run=dry_run))
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))


@retention.command("new-key")
@click.argument("key_file", type=click.Path(path_type=Path))
def new_key(key_file: Path) -> None:
    """Write a new master key for identity-document copies to KEY_FILE (mode 0600); point
    SGL_IDENTITY_DOCUMENT_KEY_FILE at it. Keep it outside the database and its backups."""
    if key_file.exists():
        raise click.ClickException(f"{key_file} exists: a key is never overwritten (the copies it wraps would be lost)")
    key_file.touch(mode=0o600)
    key_file.write_text(new_master_key() + "\n", encoding="ascii")
    click.echo(f"master key written to {key_file}")
