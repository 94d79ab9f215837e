"""Shared INSi fixtures: one generated PKI per session, one simulator per test (stopped after it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from facades.insi import Exchange, InsiClient, client_ssl_context, start_insi_simulator
from facades.insi.simulator import SimulatorHandle
from tests.support.insi_kit import SOFTWARE
from tests.support.pki import TestPki, create_test_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return create_test_pki(tmp_path_factory.mktemp("insi-pki"))


@pytest.fixture
async def simulator(pki: TestPki) -> AsyncIterator[SimulatorHandle]:
    handle = await start_insi_simulator("127.0.0.1", 0, pki.server.cert, pki.server.key, pki.ca.cert)
    try:
        yield handle
    finally:
        await handle.stop()


@pytest.fixture
def traces() -> list[Exchange]:
    return []


@pytest.fixture
async def client(simulator: SimulatorHandle, pki: TestPki, traces: list[Exchange]) -> AsyncIterator[InsiClient]:
    async def trace(exchange: Exchange) -> None:
        traces.append(exchange)

    context = client_ssl_context(pki.client.cert, pki.client.key, pki.ca.cert)
    async with InsiClient(simulator.url, context, SOFTWARE, trace=trace, timeout=5.0) as insi:
        yield insi
