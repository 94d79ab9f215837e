"""Shared fixtures: one real ``sgl serve`` process on the embedded database for the whole run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.sgl_server import SglProcess, start_sgl


@pytest.fixture(scope="session")
def sgl_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    server = start_sgl(tmp_path_factory.mktemp("sgl") / "var")
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def fhir(sgl_server: SglProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sgl_server.base + "/", timeout=30.0,
                                 headers={"Accept": "application/fhir+json"}) as client:
        yield client


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "shared"
