"""Store look-ups the analyzer workflow needs: search helpers, specimens by accession, their orders.

Every look-up goes through the FHIR search planner (so through an index) and takes the session of
the transaction it belongs to, so that what is matched is what is written against.
"""

from __future__ import annotations

from typing import Any

from resources.interactions.search import plan_search
from resources.store.base import FhirStore, StoreSession

PAGE = 1000
MAX_PAGES = 100
CLOSED_REQUESTS = frozenset({"revoked", "entered-in-error", "draft"})


async def find_all(store: FhirStore, rtype: str, pairs: list[tuple[str, str]], *, session: StoreSession | None = None,
                   max_pages: int = MAX_PAGES) -> list[dict[str, Any]]:
    """Every match of a search, page after page (bounded: ``max_pages`` of ``PAGE``)."""
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(max_pages):
        query = [*pairs, ("_count", str(PAGE))] + ([("_cursor", cursor)] if cursor else [])
        page = await store.search(await plan_search(store, rtype, query, strict=True, session=session),
                                  session=session)
        out += page.matches
        cursor = page.next_cursor
        if cursor is None:
            return out
    raise RuntimeError(f"{rtype} search {pairs!r} has more than {max_pages * PAGE} matches")


async def specimens_by_accession(store: FhirStore, accession: str, *,
                                 session: StoreSession | None = None) -> list[dict[str, Any]]:
    """The Specimens whose accessionIdentifier is this tube barcode (any system), entered-in-error left out."""
    found = await find_all(store, "Specimen", [("accession", accession)], session=session, max_pages=1)
    return [s for s in found if s.get("status") != "entered-in-error"]


async def requests_of(store: FhirStore, specimen: dict[str, Any], *,
                      session: StoreSession | None = None) -> list[dict[str, Any]]:
    """The open ServiceRequests of a specimen (pointing at it, or named in ``Specimen.request``), oldest first."""
    found = {r["id"]: r for r in await find_all(store, "ServiceRequest", [("specimen", f"Specimen/{specimen['id']}")],
                                                 session=session, max_pages=1)}
    wanted = [ref["reference"].split("/", 1)[1] for ref in specimen.get("request", ())
              if ref.get("reference", "").startswith("ServiceRequest/")]
    missing = [rid for rid in wanted if rid not in found]
    if missing:
        for request in await find_all(store, "ServiceRequest", [("_id", ",".join(missing))], session=session,
                                      max_pages=1):
            found[request["id"]] = request
    open_requests = [r for r in found.values() if r.get("status") not in CLOSED_REQUESTS]
    return sorted(open_requests, key=lambda r: (r.get("authoredOn", ""), r["meta"]["lastUpdated"], r["id"]))
