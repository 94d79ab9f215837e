"""One ``sgl dmp-simulator`` process for the package's tests (reset before each test), and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from facades.dmp import DmpClient, Seal, client_ssl_context
from tests.support.dmp import SOFTWARE, DmpSimulator, running_dmp_simulator


@pytest.fixture(scope="session")
def dmp_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmpSimulator]:
    with running_dmp_simulator(tmp_path_factory.mktemp("dmp") / "pki") as sim:
        yield sim


@pytest.fixture
def sim(dmp_sim: DmpSimulator) -> DmpSimulator:
    dmp_sim.reset()
    return dmp_sim


@pytest.fixture
def seal(dmp_sim: DmpSimulator) -> Seal:
    return Seal.from_files(dmp_sim.client_cert, dmp_sim.client_key)


@pytest.fixture
async def client(sim: DmpSimulator, seal: Seal) -> AsyncIterator[DmpClient]:
    context = client_ssl_context(sim.client_cert, sim.client_key, sim.ca)
    async with DmpClient(sim.base_url, context, SOFTWARE, seal, timeout=10.0) as dmp:
        yield dmp
