"""The catalogue tests change LOINC codes on the shared session server: put the seed back afterwards,
so that tests of other workflows running later see the catalogue they expect.

The seed is written back the way the catalogue's own change operations write (``write_pinned``, one
transaction, each resource pinned to the version read): a plain PUT of a changed LOINC code is
refused by the catalogue write rule (SGL.LOI.08/09), as it is for any client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from resources.interactions import WriteIntent
from server.catalog.writer import write_pinned
from server.database import Database
from server.stored_catalog import read_catalog
from terminology import catalog_to_fhir, load_seed_catalog


async def _as_proposed(intent: WriteIntent) -> dict[str, Any] | None:
    return intent.proposed


@pytest.fixture(scope="package", autouse=True)
async def seed_codes_restored(sgl_db: Database) -> AsyncIterator[None]:
    yield
    store = sgl_db.store
    async with store.transaction() as session:
        stored = await read_catalog(store, session=session)
        await write_pinned(store, catalog_to_fhir(load_seed_catalog()), stored.versions, write_rule=_as_proposed,
                           session=session)
