"""Fixtures of the access tests: the catalogue seeded on the session server, and a ``Lab`` on it acting
as the session's RPPS-identified biologist."""

from __future__ import annotations

import httpx
import pytest

from server.database import Database
from tests.support.validation_lab import Lab, seed_definitions


@pytest.fixture(scope="session")
async def lab(fhir: httpx.AsyncClient, sgl_db: Database) -> Lab:
    await seed_definitions(fhir)
    return Lab(fhir, sgl_db.store)
