"""A simulated INSi (mutual TLS on loopback) and ``sgl serve`` processes wired to it, one per profile,
all on one data directory: ``desk`` (secretaire, the lab as identity referential), ``tech``
(technicien), ``superuser`` (super-utilisateur) and ``feed`` (source-identite)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from facades.insi import SimulatorHandle, start_insi_simulator
from facades.insi.directory import KIT_DIR
from tests.support.identity_servers import Servers, insi_env
from tests.support.pki import TestPki, create_test_pki
from tests.support.sgl_server import SglProcess, start_sgl

EXTRA_KIT_ROWS = "LUNAIRE;JEANNE;JEANNE;F;1950-03-00;63220;2500363220111;47;1.2.250.1.213.1.4.8;00;;jour inconnu\n"


@pytest.fixture(scope="session")
def insi_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return create_test_pki(tmp_path_factory.mktemp("insi-pki"), client_common_name="INSI-MANU")


@pytest.fixture(scope="session")
async def insi_simulator(insi_pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SimulatorHandle]:
    kit = tmp_path_factory.mktemp("insi-kit") / "kit"
    shutil.copytree(KIT_DIR, kit)
    with (kit / "test_identities.csv").open("a", encoding="utf-8") as rows:
        rows.write(EXTRA_KIT_ROWS)
    handle = await start_insi_simulator("127.0.0.1", 0, insi_pki.server.cert, insi_pki.server.key, insi_pki.ca.cert,
                                        kit_dir=kit)
    yield handle
    await handle.stop()


@pytest.fixture(scope="session")
def identity_servers(insi_pki: TestPki, insi_simulator: SimulatorHandle,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    env = insi_env(insi_pki, insi_simulator.url)
    data = tmp_path_factory.mktemp("identity") / "var"
    started: list[SglProcess] = []
    try:
        for role in ("secretaire", "technicien", "super-utilisateur", "source-identite"):
            started.append(start_sgl(data, env={**env, "SGL_CLIENT_ROLE": role, "SGL_CLIENT_ID": f"{role}-1"}))
        desk, tech, superuser, feed = started
        yield Servers(desk, tech, superuser, feed, env)
    finally:
        for server in reversed(started):  # the first one owns the embedded database: stopped last
            server.stop()


def _client(server: SglProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base + "/", timeout=30.0, headers={"Accept": "application/fhir+json"})


@pytest.fixture(scope="session")
async def desk(identity_servers: Servers) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(identity_servers.desk) as client:
        yield client


@pytest.fixture(scope="session")
async def tech(identity_servers: Servers) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(identity_servers.tech) as client:
        yield client


@pytest.fixture(scope="session")
async def superuser(identity_servers: Servers) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(identity_servers.superuser) as client:
        yield client


@pytest.fixture(scope="session")
async def feed(identity_servers: Servers) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(identity_servers.feed) as client:
        yield client
