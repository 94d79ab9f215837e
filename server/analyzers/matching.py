"""Match a received result to the catalogue, its tube (Specimen) and the order (ServiceRequest).

The tube is found by its accession number (``Specimen?accession=``), the analysis by the analyzer's
own test code (catalogue ``instrument-test-code``), the order as the open ServiceRequest of that
Specimen whose exam contains the analysis (or which orders the analysis itself). The first thing
that cannot be found is the reason the result goes to the worklist. Look-ups are cached per
message: twenty results on one tube cost one Specimen and one ServiceRequest search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resources.store.base import FhirStore, StoreSession
from server.analyzers.catalog_view import CatalogView
from server.analyzers.incoming import IncomingResult, PatientHint
from server.analyzers.lookup import find_all, requests_of, specimens_by_accession
from server.analyzers.observation import Match, unit_problem, value_problem
from terminology import CATALOG_SYSTEM

EXAM_CANONICAL = "/ActivityDefinition/exam-"


def ordered_codes(request: dict[str, Any]) -> list[str]:
    """The catalogue codes a ServiceRequest orders: ``code`` in the catalogue system, or its ActivityDefinition."""
    codes = [c["code"] for c in request.get("code", {}).get("coding", ()) if c.get("system") == CATALOG_SYSTEM]
    codes += [url.rsplit(EXAM_CANONICAL, 1)[1] for url in request.get("instantiatesCanonical", ())
              if EXAM_CANONICAL in url]
    return codes


@dataclass
class Matcher:
    """Matches the results of one message inside its transaction (``session``)."""

    store: FhirStore
    view: CatalogView
    session: StoreSession | None = None
    _specimens: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _requests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _awaiting: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _patients: dict[tuple[str, ...], str | None] = field(default_factory=dict)

    async def patient_for(self, hint: PatientHint | None) -> str | None:
        """``Patient/<id>`` when exactly one patient holds one of the identifiers the message gives
        (HL7 PID-3, ASTM P.3/P.4), for the worklist of a result whose tube is unknown."""
        if hint is None or not hint.identifiers:
            return None
        if hint.identifiers not in self._patients:
            found: dict[str, dict[str, Any]] = {}
            for value in hint.identifiers:
                for patient in await find_all(self.store, "Patient", [("identifier", value)],
                                              session=self.session, max_pages=1):
                    found[patient["id"]] = patient
            self._patients[hint.identifiers] = f"Patient/{next(iter(found))}" if len(found) == 1 else None
        return self._patients[hint.identifiers]

    async def specimens(self, accession: str) -> list[dict[str, Any]]:
        if accession not in self._specimens:
            self._specimens[accession] = await specimens_by_accession(self.store, accession, session=self.session)
        return self._specimens[accession]

    async def requests(self, specimen: dict[str, Any]) -> list[dict[str, Any]]:
        if specimen["id"] not in self._requests:
            self._requests[specimen["id"]] = await requests_of(self.store, specimen, session=self.session)
        return self._requests[specimen["id"]]

    async def awaiting_value(self, specimen: dict[str, Any], analysis: str) -> dict[str, Any] | None:
        """A ``registered`` Observation of this analysis on this specimen with no value yet, taken once.

        The validation workflow's ``$rerun`` writes one (status registered, no value, a ``replaces``
        link to the first measurement) for the analyzer to fill: the rerun's result goes there.

        Searched by specimen and status together, through the Observation index on both
        (``resources/store/indexes.py``): the usual answer is none, found without reading any
        Observation. Reading the tube's stored results instead (by specimen alone) left the
        transaction's cursor on the Observation collection's last page, the one every concurrent
        ingest appends to; WiredTiger then could not split that page when it outgrew its in-memory
        limit, and every writer slept seconds in its insert (the README's "Analyzer ingestion").
        """
        if specimen["id"] not in self._awaiting:
            self._awaiting[specimen["id"]] = [
                o for o in await find_all(self.store, "Observation", [("specimen", f"Specimen/{specimen['id']}"),
                                                                   ("status", "registered")], session=self.session)
                if o.get("status") == "registered" and not any(k.startswith("value") for k in o)]
        waiting = self._awaiting[specimen["id"]]
        found = next((o for o in waiting if any(c.get("system") == CATALOG_SYSTEM and c.get("code") == analysis
                                                 for c in o.get("code", {}).get("coding", ()))), None)
        if found is not None:
            waiting.remove(found)
        return found

    async def match(self, result: IncomingResult) -> Match:
        view = self.view
        analysis = view.analysis_for(result.analyzer, result.test_code, result.test_system)
        device = view.devices.get(result.analyzer)
        problem, detail = None, ""
        if analysis is None:
            known = device is not None or bool(view.instrument_codes(result.analyzer))
            problem = "unknown-test-code" if known else "unknown-analyzer"
            detail = (f"test code {result.test_code!r} of analyzer {result.analyzer!r} is not in the catalogue" if known
                      else f"analyzer {result.analyzer!r} is not in the catalogue")
        found = await self.specimens(result.specimen_id) if result.specimen_id else []
        specimen = found[0] if len(found) == 1 else None
        if problem is None and not found:
            problem, detail = "unknown-accession", f"no specimen with accession number {result.specimen_id!r}"
        elif problem is None and len(found) > 1:
            problem = "ambiguous-accession"
            detail = f"{len(found)} specimens have accession number {result.specimen_id!r}"
        request = None
        if specimen is not None and analysis is not None:
            request = next((r for r in await self.requests(specimen)
                            if any(analysis.code in view.analyses_of(c) for c in ordered_codes(r))), None)
            if problem is None and request is None:
                problem = "not-ordered"
                detail = f"analysis {analysis.code} is not ordered on specimen {result.specimen_id!r}"
        if problem is None and analysis is not None:
            detail = unit_problem(result, analysis) or value_problem(result, analysis)
            problem = ("unit-mismatch" if unit_problem(result, analysis) else "not-numeric") if detail else None
        return Match(analysis, specimen, request, device, problem, detail)
