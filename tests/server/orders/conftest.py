"""Order tests on the session ``sgl_server``: the catalogue present, a patient, a prescriber and
twelve correspondents (helpers in ``tests/support/orders_lab.py``)."""

from __future__ import annotations

import httpx
import pytest

from server.database import Database
from tests.support.orders_lab import People, created, ensure_catalogue, patient_body, practitioner_role


@pytest.fixture(scope="session")
async def order_people(fhir: httpx.AsyncClient, sgl_db: Database) -> People:
    await ensure_catalogue(sgl_db)
    patient = await created(fhir, patient_body("ORDRE-TEST"))
    requester = await practitioner_role(fhir, "PRESCRIPTEUR")
    correspondents = [await practitioner_role(fhir, f"CORRESPONDANT-{i}") for i in range(12)]
    return People(patient, requester, correspondents)
