"""The catalogue read back from the store (server/stored_catalog.py), for the other workflows."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from server.catalog import CatalogRepository, read_catalog
from server.database import Database
from server.stored_catalog import CATALOG_TYPES
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


async def test_a_plain_put_of_a_definition_is_seen_by_the_next_read(sgl_db: Database, fhir: httpx.AsyncClient) -> None:
    """Not only the catalogue's operations: any write of a catalogue type (here a REST PUT, outside any
    transaction) moves the store's count, so the cached copy is not served after it."""
    repository = CatalogRepository(sgl_db.store)
    first = await repository.current()
    definition = (await fhir.get("ObservationDefinition/analysis-GLU")).json()
    definition.pop("meta")
    put = await fhir.put("ObservationDefinition/analysis-GLU", json={**definition, "preferredReportName": "Glycémie"})
    assert put.status_code == 200, put.text
    fresh = await repository.current()
    assert fresh is not first
    assert next(r for r in fresh.resources if r["id"] == "analysis-GLU")["preferredReportName"] == "Glycémie"
    assert await repository.current() is fresh


async def test_the_store_counts_catalogue_writes_only_when_they_commit(sgl_db: Database) -> None:
    store = sgl_db.store
    before = await store.revision(CATALOG_TYPES)
    await store.create({"resourceType": "Patient", "name": [{"family": "COMPTE"}]})  # not a catalogue type
    assert await store.revision(CATALOG_TYPES) == before
    current = (await store.read("ObservationDefinition", "analysis-NA")).resource or {}
    with pytest.raises(RuntimeError):
        async with store.transaction() as session:
            await store.update({**current, "preferredReportName": "rolled back"}, session=session)
            assert await store.revision(CATALOG_TYPES, session=session) == before + 1  # the transaction sees it
            raise RuntimeError("abort")
    assert await store.revision(CATALOG_TYPES) == before  # rolled back with the write it counted
    with pytest.raises(ValueError, match="not counted"):
        await store.revision(["Patient"])
