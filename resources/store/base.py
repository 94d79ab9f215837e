"""The FHIR store contract: what every interaction needs from persistence, and nothing more.

Conditional interactions, bundles, audit and the HTTP layer are written once on top of it; the
MongoDB implementation is the only one, and the contract tests run it on the embedded database.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeAlias

from pymongo.asynchronous.client_session import AsyncClientSession

from resources.errors import NotFound
from resources.search.query import SearchRequest

StoreSession: TypeAlias = AsyncClientSession
"""The database session a transaction runs in (``FhirStore.transaction`` yields it): handed to every read
and write that must see or belong to the open transaction; None outside one. The MongoDB driver's
session, named once here so signatures say what they take instead of ``Any``."""


@dataclass(frozen=True)
class Stored:
    """One version of a resource as stored (``resource`` is None for a deletion in history)."""

    resource_type: str
    id: str
    vid: int
    last_updated: datetime
    resource: dict[str, Any] | None
    method: str = "PUT"

    @property
    def etag(self) -> str:
        return f'W/"{self.vid}"'


@dataclass
class SearchPage:
    matches: list[dict[str, Any]]
    included: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None
    total: int | None = None


@dataclass
class HistoryPage:
    entries: list[Stored]
    next_cursor: str | None = None


class FhirStore(Protocol):
    """Persistence of FHIR resources with versions; every write is conditioned on the expected version."""

    async def create(self, resource: dict[str, Any], *, session: StoreSession | None = None,
                     rid: str | None = None) -> Stored: ...

    async def create_many(self, resources: list[tuple[dict[str, Any], str | None]], *,
                          session: StoreSession | None = None) -> list[Stored]: ...

    async def read(self, resource_type: str, id: str, *, session: StoreSession | None = None) -> Stored: ...

    async def vread(self, resource_type: str, id: str, vid: int) -> Stored: ...

    async def present(self, resource_type: str, ids: Collection[str], *,
                      session: StoreSession | None = None) -> set[str]:
        """The ``ids`` that have a current (not deleted) resource of this type: one query, ids only."""
        ...

    async def versions_present(self, resource_type: str, versions: Collection[tuple[str, int]], *,
                               session: StoreSession | None = None) -> set[tuple[str, int]]:
        """The ``(id, version)`` pairs that exist as a version (current or past, not a deletion)."""
        ...

    async def update(self, resource: dict[str, Any], *, expected_vid: int | None = None,
                     session: StoreSession | None = None) -> tuple[Stored, bool]: ...

    async def delete(self, resource_type: str, id: str, *, expected_vid: int | None = None,
                     session: StoreSession | None = None) -> Stored | None: ...

    async def history(self, resource_type: str, id: str | None, *, count: int,
                      cursor: str | None = None) -> HistoryPage: ...

    async def search(self, request: SearchRequest, *, session: StoreSession | None = None) -> SearchPage: ...

    async def search_ids(self, request: SearchRequest, *, limit: int,
                         session: StoreSession | None = None) -> list[str]: ...

    async def written_since(self, resource_type: str, since: datetime) -> dict[str, datetime]:
        """The versions of this type written (created, updated or deleted) after ``since``, ``id/version`` ->
        when, read through indexes only: a poller's cheap "did anything change?" that does not read the type."""
        ...

    async def revision(self, resource_types: Collection[str], *, session: StoreSession | None = None) -> int:
        """A number that grows at every write of one of these types (which types are counted is the
        store's configuration); what a cache built from them compares to know it is still current."""
        ...

    async def claim(self, key: str, *, session: StoreSession | None) -> None:
        """Write the claim document ``key`` inside the transaction ``session``: two transactions claiming
        the same key cannot both commit (the loser gets ``WriteConflict``), which serialises check-then-create."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[StoreSession]:
        """All-or-nothing scope; a conflict with a concurrent transaction surfaces as ``WriteConflict``."""
        ...


async def read_or_none(store: FhirStore, resource_type: str, rid: str, *,
                       session: StoreSession | None = None) -> dict[str, Any] | None:
    """The current resource, or None when there is none: for readers that follow a reference which may point
    nowhere (a report withdrawn, a patient merged away) and carry on without it."""
    try:
        return (await store.read(resource_type, rid, session=session)).resource
    except NotFound:
        return None
