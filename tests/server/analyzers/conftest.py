"""Fixtures of the analyzer tests: an MLLP client on the session's ``sgl serve``, catalogue seeded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from facades.hl7v2 import MllpClient
from tests.support.analyzer_lab import seed_catalog
from tests.support.sgl_server import SglProcess


@pytest.fixture(scope="module")
async def mllp(sgl_server: SglProcess, fhir: httpx.AsyncClient) -> AsyncIterator[MllpClient]:
    """The production MLLP client, one connection per test module (the catalogue stored first)."""
    await seed_catalog(fhir)
    client = MllpClient("127.0.0.1", sgl_server.mllp_port, read_timeout=120)
    yield client
    await client.close()
