"""How a CLI command works on the database of a data dir (the embedded one is shared with a running
``sgl serve``) or of ``SGL_MONGODB_URI``: open, run the work, close; a refusal becomes a click error (exit 1)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from resources.errors import SglError
from server.database import Database, open_database
from server.settings import Settings

T = TypeVar("T")


def run_with_database(data_dir: Path, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        database = await open_database(Settings(data_dir=data_dir))
        try:
            return await work(database)
        finally:
            await database.close()

    try:
        return asyncio.run(run())
    except SglError as exc:
        raise click.ClickException(exc.diagnostics) from exc
