"""One operator PKI per session; one simulated operator per test (stopped after it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from facades.mssante.simulator import OperatorHandle, start_operator
from tests.support.mssante import BAL, OperatorPki, operator_pki


@pytest.fixture(scope="session")
def ops(tmp_path_factory: pytest.TempPathFactory) -> OperatorPki:
    return operator_pki(tmp_path_factory.mktemp("mss-pki"))


@pytest.fixture
async def operator(ops: OperatorPki) -> AsyncIterator[OperatorHandle]:
    handle = await start_operator("127.0.0.1", ops.pki.server.cert, ops.pki.server.key, ops.pki.ca.cert, bal=BAL)
    try:
        yield handle
    finally:
        await handle.stop()
