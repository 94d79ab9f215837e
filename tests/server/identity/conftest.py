"""A simulated INSi (mutual TLS on loopback), one ``sgl serve`` wired to it (the lab as identity
referential) and an API client per role on it: ``desk`` (secretaire), ``tech`` (technicien),
``superuser`` (biologiste-responsable, who may unlock strict traits) and ``feed`` (source-identite)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from facades.insi import SimulatorHandle, start_insi_simulator
from facades.insi.directory import KIT_DIR
from tests.support.access import ActAs
from tests.support.identity_servers import Servers, insi_env
from tests.support.pki import TestPki, create_test_pki
from tests.support.sgl_server import start_sgl

EXTRA_KIT_ROWS = "LUNAIRE;JEANNE;JEANNE;F;1950-03-00;63220;2500363220111;47;1.2.250.1.213.1.4.8;00;;jour inconnu\n"
ONE_WORKER = True  # under pytest-xdist the package's tests run in one worker: its server starts once


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
    server = start_sgl(tmp_path_factory.mktemp("identity") / "var", env=env)
    try:
        yield Servers(server, env)
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def identity_roles(identity_servers: Servers) -> AsyncIterator[ActAs]:
    clients = ActAs(identity_servers.server)
    yield clients
    await clients.close()


@pytest.fixture(scope="session")
async def desk(identity_roles: ActAs) -> httpx.AsyncClient:
    return await identity_roles("secretaire")


@pytest.fixture(scope="session")
async def tech(identity_roles: ActAs) -> httpx.AsyncClient:
    return await identity_roles("technicien")


@pytest.fixture(scope="session")
async def superuser(identity_roles: ActAs) -> httpx.AsyncClient:
    """The identitovigilance referent: may edit the strict traits of a retrieved/qualified identity."""
    return await identity_roles("biologiste-responsable")


@pytest.fixture(scope="session")
async def feed(identity_roles: ActAs) -> httpx.AsyncClient:
    return await identity_roles("source-identite")
