"""Pending orders of a specimen: what an analyzer host query and the validation workflow ask for.

``pending_orders(store, accession)`` returns the ``active`` ServiceRequests of the Specimen(s)
whose ``accessionIdentifier`` is ``accession`` (a bare value, or ``system|value``), in the order
they were written. Two indexed lookups: ``Specimen?accession=`` then ``ServiceRequest?specimen=``.
"""

from __future__ import annotations

from typing import Any

from resources.interactions.search import plan_search
from resources.search.query import MAX_COUNT
from resources.store.base import FhirStore, StoreSession


async def pending_orders(store: FhirStore, accession: str, *, session: StoreSession | None = None) -> list[dict[str,
                                                                                                                Any]]:
    """The active ServiceRequests of the specimen numbered ``accession`` (empty when unknown)."""
    if not accession.strip("|"):
        return []
    specimens = await _search(store, "Specimen", [("accession", accession)], session)
    if not specimens:
        return []
    refs = ",".join(f"Specimen/{s['id']}" for s in specimens)
    return await _search(store, "ServiceRequest", [("specimen", refs), ("status", "active")], session)


async def _search(store: FhirStore, rtype: str, pairs: list[tuple[str, str]],
                  session: StoreSession | None) -> list[dict[str, Any]]:
    req = await plan_search(store, rtype, [*pairs, ("_count", str(MAX_COUNT))], strict=True, session=session)
    return (await store.search(req, session=session)).matches
