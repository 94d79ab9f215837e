"""A dedicated ``sgl serve`` with other settings (autoverification...), with a Lab on it acting as an
RPPS-identified biologist; always stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from server.database import open_database
from server.settings import Settings
from tests.support.access import ActAs
from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.validation_lab import Lab, seed_definitions


@dataclass
class Dedicated:
    lab: Lab
    act_as: ActAs
    server: SglProcess
    """The running server; a test that restarts it puts the new process here, and that one is stopped."""
    env: dict[str, str]


D = TypeVar("D", bound=Dedicated)


@asynccontextmanager
async def dedicated_server(data_dir: Path, env: dict[str, str], kind: type[D]) -> AsyncIterator[D]:
    """The server and its clients, as ``kind`` (``Dedicated`` or a subclass with more helpers)."""
    server = start_sgl(data_dir, env=env)
    holder = kind(None, ActAs(server), server, env)  # type: ignore[arg-type]  # the Lab comes once seeded
    try:
        database = await open_database(Settings(data_dir=holder.server.data_dir))
        try:
            client = await holder.act_as.biologist()
            await seed_definitions(await holder.act_as("biologiste-responsable"))
            holder.lab = Lab(client, database.store)
            yield holder
        finally:
            await database.close()
    finally:
        await holder.act_as.close()
        holder.server.stop()


@asynccontextmanager
async def dedicated_lab(data_dir: Path, env: dict[str, str]) -> AsyncIterator[Lab]:
    async with dedicated_server(data_dir, env, Dedicated) as holder:
        yield holder.lab
