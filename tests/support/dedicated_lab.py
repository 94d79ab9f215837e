"""A dedicated ``sgl serve`` with other settings (role, autoverification), with a Lab on it; always stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from server.database import open_database
from server.settings import Settings
from tests.support.sgl_server import start_sgl
from tests.support.validation_lab import Lab, seed_definitions


@asynccontextmanager
async def dedicated_lab(data_dir: Path, env: dict[str, str]) -> AsyncIterator[Lab]:
    server = start_sgl(data_dir, env=env)
    try:
        database = await open_database(Settings(data_dir=server.data_dir))
        try:
            async with httpx.AsyncClient(base_url=server.base + "/", timeout=30.0,
                                         headers={"Accept": "application/fhir+json"}) as client:
                await seed_definitions(client)
                yield Lab(client, database.store)
        finally:
            await database.close()
    finally:
        server.stop()
