"""A ``sgl serve`` in test mode (the ANS examples carry the INS *test* OID .4.10), its HTTP client
and its database, shared by the identity-feed tests (helpers in ``tests/support/adt_feed.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from server.database import Database, open_database
from server.settings import Settings
from tests.support.access import role_client
from tests.support.sgl_server import SglProcess, start_sgl

ONE_WORKER = True  # under pytest-xdist the package's tests run in one worker: its server starts once


@pytest.fixture(scope="package")
def feed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    server = start_sgl(tmp_path_factory.mktemp("feed") / "var", env={"SGL_TEST_MODE": "true"})
    yield server
    server.stop()


@pytest.fixture(scope="package")
async def feed_http(feed_server: SglProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with role_client(feed_server.base, feed_server.data_dir, "secretaire") as client:
        yield client


@pytest.fixture(scope="package")
async def feed_db(feed_server: SglProcess) -> AsyncIterator[Database]:
    database = await open_database(Settings(data_dir=feed_server.data_dir))
    yield database
    await database.close()
