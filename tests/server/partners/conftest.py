"""A ``sgl serve`` with *no* partner registered and MLLP over TLS on (certificates made by the test),
shared by the package's tests (their helpers: tests/support/partner_messages.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from server.database import Database, open_database
from server.settings import Settings
from tests.support.access import role_client
from tests.support.partner_messages import PartnerServer
from tests.support.pki import create_test_pki
from tests.support.sgl_server import free_port, start_sgl

ONE_WORKER = True  # under pytest-xdist the package's tests run in one worker: its server starts once


@pytest.fixture(scope="package")
def partner_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnerServer]:
    root = tmp_path_factory.mktemp("partners")
    pki = create_test_pki(root / "pki")
    tls_port = free_port()
    env = {"SGL_TEST_MODE": "true", "SGL_MLLP_TLS_PORT": str(tls_port), "SGL_MLLP_TLS_CERT": str(pki.server.cert),
           "SGL_MLLP_TLS_KEY": str(pki.server.key), "SGL_MLLP_TLS_CA": str(pki.ca.cert)}
    server = start_sgl(root / "var", env=env, partners=None)
    yield PartnerServer(server, pki, tls_port)
    server.stop()


@pytest.fixture(scope="package")
async def partner_http(partner_server: PartnerServer) -> AsyncIterator[httpx.AsyncClient]:
    """A secretary's API client (reads identities with their INS)."""
    async with role_client(partner_server.sgl.base, partner_server.sgl.data_dir, "secretaire") as client:
        yield client


@pytest.fixture(scope="package")
async def partner_db(partner_server: PartnerServer) -> AsyncIterator[Database]:
    database = await open_database(Settings(data_dir=partner_server.sgl.data_dir))
    yield database
    await database.close()
