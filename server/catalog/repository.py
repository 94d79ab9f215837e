"""The analysis catalogue as the store holds it: read back into a ``terminology.Catalog``.

The catalogue lives in the FHIR store as one ``CodeSystem`` (local codes, chapter hierarchy), its
``SpecimenDefinition``, ``Device`` (analyzers), ``ObservationDefinition`` (analyses),
``ActivityDefinition`` (orderable exams) and a ``ConceptMap`` (local -> LOINC), all written by
``catalog_to_fhir``. Every workflow that needs the catalogue reads it here, so that there is one
way to find an analysis from an analyzer's test code, a reference interval or a LOINC code.

``read_catalog`` also returns the version of every resource it read: a writer pins those versions,
so a change computed from a catalogue that moved in between is refused instead of overwriting it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from resources.errors import NotFound
from resources.interactions.search import plan_search
from resources.search.query import MAX_COUNT
from resources.store.base import FhirStore, StoreSession
from terminology import ANALYZER_SYSTEM, CATALOG_SYSTEM, CONCEPT_MAP_URL, SPECIMEN_SYSTEM, Catalog, catalog_from_fhir
from terminology.catalog import Analysis

__all__ = ["CatalogRepository", "StoredCatalog", "catalog_present", "read_catalog", "read_concept_map"]

log = logging.getLogger(__name__)

# Each type is searched on the catalogue's own system, so other resources of these types in the
# store (a Device that is not an analyzer, a CI-SIS CodeSystem) are never taken for catalogue items.
_QUERIES: tuple[tuple[str, str, str], ...] = (
    ("CodeSystem", "url", CATALOG_SYSTEM),
    ("SpecimenDefinition", "identifier", f"{SPECIMEN_SYSTEM}|"),
    ("Device", "identifier", f"{ANALYZER_SYSTEM}|"),
    ("ObservationDefinition", "identifier", f"{CATALOG_SYSTEM}|"),
    ("ActivityDefinition", "code", f"{CATALOG_SYSTEM}|"),
    ("ConceptMap", "url", CONCEPT_MAP_URL),
)
CATALOG_TYPES = tuple(rtype for rtype, _, _ in _QUERIES)


async def _all(store: FhirStore, rtype: str, param: str, value: str, session: StoreSession | None) -> list[dict[str,
                                                                                                                Any]]:
    request = await plan_search(store, rtype, [(param, value), ("_count", str(MAX_COUNT))], strict=True,
                                session=session)
    found: list[dict[str, Any]] = []
    while True:
        page = await store.search(request, session=session)
        found += page.matches
        if page.next_cursor is None:
            return found
        request.cursor = page.next_cursor


async def catalog_present(store: FhirStore, *, session: StoreSession | None = None) -> bool:
    """Whether the local catalogue ``CodeSystem`` is stored (the seed checks this)."""
    return bool(await _all(store, "CodeSystem", "url", CATALOG_SYSTEM, session))


async def read_concept_map(store: FhirStore, *, session: StoreSession | None = None) -> dict[str, Any]:
    """The local -> LOINC ConceptMap alone (``$translate`` needs nothing else)."""
    found = await _all(store, "ConceptMap", "url", CONCEPT_MAP_URL, session)
    if not found:
        raise NotFound(f"no ConceptMap {CONCEPT_MAP_URL} in the store", expression="ConceptMap")
    return found[0]


@dataclass(frozen=True)
class StoredCatalog:
    """The catalogue, the resources it was read from and the version of each (for pinned writes)."""

    catalog: Catalog
    resources: tuple[dict[str, Any], ...]
    versions: Mapping[tuple[str, str], int] = field(default_factory=dict)

    @property
    def concept_map(self) -> dict[str, Any] | None:
        return next((r for r in self.resources if r["resourceType"] == "ConceptMap"), None)

    @cached_property
    def _by_instrument(self) -> dict[tuple[str, str], Analysis]:
        return {(ic.analyzer, ic.code): a for a in self.catalog.analyses for ic in a.instrument_codes}

    def analysis_for_instrument(self, analyzer: str, test_code: str) -> Analysis | None:
        """The analysis an analyzer's test code stands for (ASTM / HL7 result ingestion)."""
        return self._by_instrument.get((analyzer, test_code))


async def read_catalog(store: FhirStore, *, session: StoreSession | None = None) -> StoredCatalog:
    """The stored catalogue; ``NotFound`` if it was never loaded, ``InvalidCatalog`` if a resource is broken."""
    resources: list[dict[str, Any]] = []
    for rtype, param, value in _QUERIES:
        resources += await _all(store, rtype, param, value, session)
    if not any(r["resourceType"] == "CodeSystem" for r in resources):
        raise NotFound(f"the analysis catalogue (CodeSystem {CATALOG_SYSTEM}) is not in the store; "
                       "`sgl serve` loads the seed catalogue on its first start", expression="CodeSystem")
    versions = {(r["resourceType"], r["id"]): int(r["meta"]["versionId"]) for r in resources}
    return StoredCatalog(catalog_from_fhir(_in_catalogue_order(resources)), tuple(resources), versions)


def _in_catalogue_order(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Definitions in the order of the CodeSystem's hierarchy (chapter by chapter), not of their ids,
    so that the LOINC_2/3 exports list exams and analyses grouped as the lab arranged them."""
    order: dict[str, int] = {}

    def walk(concepts: list[dict[str, Any]]) -> None:
        for concept in concepts:
            order.setdefault(concept["code"], len(order))
            walk(concept.get("concept", []))

    for code_system in (r for r in resources if r["resourceType"] == "CodeSystem"):
        walk(code_system.get("concept", []))
    return sorted(resources, key=lambda r: order.get(str(r["id"]).partition("-")[2], len(order)))


class CatalogRepository:
    """The catalogue for workflows that need it on every message, re-read only when it changed.

    "Changed" is any write to one of the catalogue's resource types: the newest entry of each
    type's history is compared (one indexed read per type) before the cached copy is served.
    """

    def __init__(self, store: FhirStore) -> None:
        self.store = store
        self._cached: StoredCatalog | None = None
        self._fingerprint: tuple[tuple[str, int] | None, ...] = ()

    async def _current_fingerprint(self) -> tuple[tuple[str, int] | None, ...]:
        marks: list[tuple[str, int] | None] = []
        for rtype in CATALOG_TYPES:
            page = await self.store.history(rtype, None, count=1)
            marks.append((page.entries[0].id, page.entries[0].vid) if page.entries else None)
        return tuple(marks)

    async def current(self) -> StoredCatalog:
        fingerprint = await self._current_fingerprint()
        if self._cached is None or fingerprint != self._fingerprint:
            self._cached = await read_catalog(self.store)
            self._fingerprint = fingerprint
            log.debug("analysis catalogue (re)read: %d analyses", len(self._cached.catalog.analyses))
        return self._cached
