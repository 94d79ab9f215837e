"""The analysis catalogue as the store holds it: read back into a ``terminology.Catalog``.

The catalogue lives in the FHIR store as one ``CodeSystem`` (local codes, chapter hierarchy), its
``SpecimenDefinition``, ``Device`` (analyzers), ``ObservationDefinition`` (analyses),
``ActivityDefinition`` (orderable exams) and a ``ConceptMap`` (local -> LOINC), all written by
``catalog_to_fhir``. Every workflow that needs the catalogue reads it here, so that there is one
way to find an analysis from an analyzer's test code, a reference interval or a LOINC code: the
catalogue's own operations (seed, import, ``$set-loinc``, exports) with ``read_catalog``, the workflows
that need it on every message or result (analyzer ingest, result validation, documents) with the one
``CatalogRepository`` of the application (``AppContext.catalogue``).

``read_catalog`` also returns the version of every resource it read: a writer pins those versions,
so a change computed from a catalogue that moved in between is refused instead of overwriting it.

This module sits beside the workflows (not in ``server/catalog``, which serves the catalogue's HTTP
operations and so depends on the application context that holds the repository).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar, cast

from resources.errors import NotFound
from resources.interactions.search import plan_search
from resources.search.query import MAX_COUNT
from resources.store.base import FhirStore, StoreSession
from terminology import ANALYZER_SYSTEM, CATALOG_SYSTEM, CONCEPT_MAP_URL, SPECIMEN_SYSTEM, Catalog, catalog_from_fhir
from terminology.catalog import Analysis

__all__ = ["CatalogRepository", "StoredCatalog", "catalog_present", "read_catalog", "read_concept_map"]

log = logging.getLogger(__name__)
T = TypeVar("T")

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
    """The resources the catalogue was read from, the version of each (for pinned writes), and the
    ``Catalog`` they make, built when first asked (a workflow that reads only the resources, like the
    analyzer ingest, keeps working while a plain PUT left one of them unreadable)."""

    resources: tuple[dict[str, Any], ...]
    versions: Mapping[tuple[str, str], int] = field(default_factory=dict)
    _derived: dict[Callable[[StoredCatalog], Any], Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def catalog(self) -> Catalog:
        """``NotFound`` if the catalogue was never loaded, ``InvalidCatalog`` if a resource is broken."""
        if not any(r["resourceType"] == "CodeSystem" for r in self.resources):
            raise NotFound(f"the analysis catalogue (CodeSystem {CATALOG_SYSTEM}) is not in the store; "
                           "`sgl serve` loads the seed catalogue on its first start", expression="CodeSystem")
        return catalog_from_fhir(_in_catalogue_order(list(self.resources)))

    @property
    def concept_map(self) -> dict[str, Any] | None:
        return next((r for r in self.resources if r["resourceType"] == "ConceptMap"), None)

    @cached_property
    def _by_instrument(self) -> dict[tuple[str, str], Analysis]:
        return {(ic.analyzer, ic.code): a for a in self.catalog.analyses for ic in a.instrument_codes}

    def analysis_for_instrument(self, analyzer: str, test_code: str) -> Analysis | None:
        """The analysis an analyzer's test code stands for (ASTM / HL7 result ingestion)."""
        return self._by_instrument.get((analyzer, test_code))

    def derived(self, build: Callable[[StoredCatalog], T]) -> T:
        """``build(self)``, computed once per catalogue read: the index a workflow makes of the catalogue
        (the analyzers' view, validation's definitions by code) lives exactly as long as this copy."""
        if build not in self._derived:
            self._derived[build] = build(self)
        return cast(T, self._derived[build])


async def _read_resources(store: FhirStore, session: StoreSession | None) -> StoredCatalog:
    resources: list[dict[str, Any]] = []
    for rtype, param, value in _QUERIES:
        resources += await _all(store, rtype, param, value, session)
    versions = {(r["resourceType"], r["id"]): int(r["meta"]["versionId"]) for r in resources}
    return StoredCatalog(tuple(resources), versions)


async def read_catalog(store: FhirStore, *, session: StoreSession | None = None) -> StoredCatalog:
    """The stored catalogue; ``NotFound`` if it was never loaded, ``InvalidCatalog`` if a resource is broken."""
    stored = await _read_resources(store, session)
    _ = stored.catalog  # built now: the catalogue's own operations refuse a broken catalogue up front
    return stored


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
    """The catalogue for workflows that need it on every message or result, re-read only when it changed.

    "Changed" is any write to one of the catalogue's resource types: the store counts them
    (``FhirStore.revision``, bumped in the same transaction as the write), so the check before serving
    the cached copy is one small read. Given the session of the caller's transaction, the count and a
    re-read are those the transaction sees; never from a transaction that writes the catalogue itself (a
    rolled-back edit would be cached under a count that a later edit reaches). One instance per
    application (``AppContext.catalogue``).
    """

    def __init__(self, store: FhirStore) -> None:
        self.store = store
        self._cached: StoredCatalog | None = None
        self._revision = -1

    async def current(self, *, session: StoreSession | None = None) -> StoredCatalog:
        revision = await self.store.revision(CATALOG_TYPES, session=session)
        cached = self._cached
        if cached is None or revision != self._revision:
            cached = await _read_resources(self.store, session)
            self._cached, self._revision = cached, revision
            log.debug("analysis catalogue (re)read at revision %d: %d resources", revision, len(cached.resources))
        return cached
