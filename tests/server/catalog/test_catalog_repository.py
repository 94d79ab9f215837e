"""The catalogue read back from the store (server/catalog/repository.py), for the other workflows."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from server.catalog import CatalogRepository, read_catalog
from server.database import Database
from terminology import load_seed_catalog
from tests.support.catalog_files import IN_CIRCUIT

pytestmark = pytest.mark.db


async def test_stored_catalogue_reads_back_with_versions(sgl_db: Database) -> None:
    stored = await read_catalog(sgl_db.store)
    seed = load_seed_catalog()
    assert sorted(a.code for a in stored.catalog.analyses) == sorted(a.code for a in seed.analyses)
    chapters = [a.chapter for a in stored.catalog.analyses]  # grouped chapter by chapter, as the CodeSystem
    assert chapters == sorted(chapters, key=[c.code for c in stored.catalog.chapters].index)
    assert stored.catalog.analysis("GLU").reference_intervals == seed.analysis("GLU").reference_intervals
    assert stored.versions[("CodeSystem", "catalogue")] >= 1 and len(stored.versions) == len(stored.resources)
    assert stored.concept_map is not None and stored.concept_map["id"] == "catalogue-loinc"


async def test_analyzer_test_codes_find_their_analysis(sgl_db: Database) -> None:
    stored = await read_catalog(sgl_db.store)
    found = stored.analysis_for_instrument("BIO1", "UA")
    assert found is not None and found.code == "URIC" and found.unit is not None and found.unit.code == "umol/L"
    assert stored.analysis_for_instrument("HEM1", "UA") is None
    assert all(i.low is None or i.low >= Decimal(0) for i in found.reference_intervals)


async def test_repository_serves_its_copy_until_the_catalogue_changes(sgl_db: Database,
                                                                      fhir: httpx.AsyncClient) -> None:
    repository = CatalogRepository(sgl_db.store)
    first = await repository.current()
    assert await repository.current() is first  # nothing written: the cached copy
    edited = await fhir.post("ObservationDefinition/analysis-CK/$set-loinc", json={
        "resourceType": "Parameters", "parameter": [{"name": "code", "valueCode": IN_CIRCUIT[5]}]})
    assert edited.status_code == 200, edited.text
    fresh = await repository.current()
    assert fresh is not first and fresh.catalog.analysis("CK").loinc.code == IN_CIRCUIT[5]  # type: ignore[union-attr]
