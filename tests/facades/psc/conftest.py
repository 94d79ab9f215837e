"""A real ``sgl psc-simulator`` for the facade tests, and a relying-party configuration for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from facades.psc import PscConfig
from tests.support.psc import CLIENT_ID, CLIENT_SECRET, PscSimulator, start_psc_simulator

REDIRECT = "http://127.0.0.1:9/auth/psc/callback"
"""Never reached: the tests read the code from the simulator's redirection, as the browser would carry it."""


@pytest.fixture(scope="module")
def psc_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PscSimulator]:
    sim = start_psc_simulator(tmp_path_factory.mktemp("psc") / "pki")
    yield sim
    sim.stop()


def config_for(sim: PscSimulator, *, secret: str = CLIENT_SECRET) -> PscConfig:
    return PscConfig(discovery_url=sim.discovery_url, client_id=CLIENT_ID, client_secret=secret,
                     redirect_uri=REDIRECT, post_logout_redirect_uri="http://127.0.0.1:9/", ca_file=Path(sim.ca))


@pytest.fixture
def psc_config(psc_sim: PscSimulator) -> PscConfig:
    return config_for(psc_sim)
