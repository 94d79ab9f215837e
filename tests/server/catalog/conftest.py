"""The catalogue tests change LOINC codes on the shared session server: put the seed back afterwards,
so that tests of other workflows running later see the catalogue they expect."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from terminology import catalog_to_fhir, load_seed_catalog


@pytest.fixture(scope="package", autouse=True)
async def seed_codes_restored(fhir: httpx.AsyncClient) -> AsyncIterator[None]:
    yield
    entries = [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
               for r in catalog_to_fhir(load_seed_catalog())]
    answer = await fhir.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert answer.status_code == 200, answer.text
