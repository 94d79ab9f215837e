"""A real ``sgl psc-simulator`` for the facade tests, and a relying-party configuration for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from facades.psc import PscConfig
from tests.support.psc import PscSimulator, config_for, start_psc_simulator


@pytest.fixture(scope="module")
def psc_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PscSimulator]:
    sim = start_psc_simulator(tmp_path_factory.mktemp("psc") / "pki")
    yield sim
    sim.stop()


@pytest.fixture
def psc_config(psc_sim: PscSimulator) -> PscConfig:
    return config_for(psc_sim)
