"""A dedicated ``sgl serve`` with other settings (autoverification...), with a Lab on it acting as an
RPPS-identified biologist; always stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from server.database import open_database
from server.settings import Settings
from tests.support.access import ActAs
from tests.support.sgl_server import start_sgl
from tests.support.validation_lab import Lab, seed_definitions


@asynccontextmanager
async def dedicated_lab(data_dir: Path, env: dict[str, str]) -> AsyncIterator[Lab]:
    server = start_sgl(data_dir, env=env)
    clients = ActAs(server)
    try:
        database = await open_database(Settings(data_dir=server.data_dir))
        try:
            client = await clients.biologist()
            await seed_definitions(await clients("biologiste-responsable"))
            yield Lab(client, database.store)
        finally:
            await database.close()
    finally:
        await clients.close()
        server.stop()
