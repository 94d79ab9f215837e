"""Host query: which tests should this analyzer run on this tube? (ASTM Q record, HL7 QBP^Q11).

The pending work of a tube is every analysis of its open (``active``) ServiceRequests that this
analyzer has a test code for, in order, each once. A tube that is unknown, ambiguous or has nothing
for this analyzer gets no order (the analyzer then runs nothing or asks the operator).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resources.errors import NotFound
from resources.store.base import FhirStore
from server.analyzers.catalog_view import CatalogView
from server.analyzers.lookup import requests_of, specimens_by_accession
from server.analyzers.matching import ordered_codes


@dataclass(frozen=True)
class PendingOrder:
    specimen: dict[str, Any]
    tests: tuple[tuple[str, str], ...]
    """(analyzer test code, analysis label) in order."""
    order_number: str
    patient: dict[str, Any] | None


async def pending_order(store: FhirStore, view: CatalogView, accession: str, analyzer: str) -> PendingOrder | None:
    specimens = await specimens_by_accession(store, accession) if accession else []
    if len(specimens) != 1:
        return None
    specimen = specimens[0]
    codes = view.instrument_codes(analyzer)
    requests = [r for r in await requests_of(store, specimen) if r.get("status") == "active"]
    wanted = [a for r in requests for c in ordered_codes(r) for a in view.analyses_of(c) if a in codes]
    tests = tuple((codes[a], view.analyses[a].label) for a in dict.fromkeys(wanted))
    if not tests:
        return None
    first = requests[0]
    number = next((i["value"] for i in first.get("identifier", ()) if i.get("value")), first["id"])
    return PendingOrder(specimen, tests, number, await _patient(store, specimen))


async def _patient(store: FhirStore, specimen: dict[str, Any]) -> dict[str, Any] | None:
    ref = specimen.get("subject", {}).get("reference", "")
    if not ref.startswith("Patient/"):
        return None
    try:
        return (await store.read("Patient", ref.split("/", 1)[1])).resource
    except NotFound:
        return None
