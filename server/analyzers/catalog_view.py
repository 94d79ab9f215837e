"""What the analyzer workflow reads from the stored catalogue, indexed for matching results.

Built from the FHIR resources the catalogue is stored as (``terminology.catalog_to_fhir``), as the
application's ``CatalogRepository`` read them: ``ObservationDefinition`` (local + LOINC codes, UCUM
units, result type, analyzer test codes in the ``instrument-test-code`` extension),
``ActivityDefinition`` (the analyses of each orderable exam), ``Device`` (one per analyzer). Reading
these rather than the whole ``Catalog`` keeps the workflow working while a catalogue edit made of
plain PUTs is half-way (a missing SpecimenDefinition does not matter here). ``current_view`` builds
the view once per catalogue read (``StoredCatalog.derived``): a catalogue edit is seen by the next
message, and a message costs the repository's one-read freshness check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from resources.store.base import StoreSession
from server.stored_catalog import CatalogRepository, StoredCatalog
from terminology import ANALYZER_SYSTEM, CATALOG_SYSTEM, EXT_ALT_UNIT, EXT_INSTRUMENT, NABM_SYSTEM

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisEntry:
    """One result analysis: its codings (local first, then LOINC), main unit, accepted units."""

    code: str
    label: str
    codings: tuple[dict[str, Any], ...]
    numeric: bool
    unit_code: str = ""
    unit_label: str = ""
    units: frozenset[str] = frozenset()
    """Every UCUM code the analysis may be reported in (main and alternatives)."""


@dataclass
class CatalogView:
    analyses: dict[str, AnalysisEntry] = field(default_factory=dict)
    by_instrument: dict[tuple[str, str], str] = field(default_factory=dict)
    """(analyzer code, instrument test code) -> analysis local code."""
    exams: dict[str, tuple[str, ...]] = field(default_factory=dict)
    devices: dict[str, str] = field(default_factory=dict)
    """analyzer code -> ``Device/<id>``."""

    def analysis_for(self, analyzer: str, test_code: str, system: str = "") -> AnalysisEntry | None:
        """By the analyzer's own test code; or, when the instrument sent a standard code (a LOINC code
        with OBX-3.3 ``LN``), by the analysis that carries that code, if only one does."""
        local = self.by_instrument.get((analyzer, test_code))
        if local is None and system and not system.startswith("local:"):
            found = [a for a in self.analyses.values()
                     if any(c.get("system") == system and c.get("code") == test_code for c in a.codings)]
            local = found[0].code if len(found) == 1 else None
        return self.analyses.get(local) if local else None

    def analyses_of(self, ordered_code: str) -> tuple[str, ...]:
        """The analyses an order code stands for: an exam's analyses, or the analysis itself."""
        if ordered_code in self.exams:
            return self.exams[ordered_code]
        return (ordered_code,) if ordered_code in self.analyses else ()

    def instrument_codes(self, analyzer: str) -> dict[str, str]:
        """analysis local code -> this analyzer's test code."""
        return {local: code for (a, code), local in self.by_instrument.items() if a == analyzer}


def _local_code(concept: dict[str, Any]) -> str:
    return next((c["code"] for c in concept.get("coding", ()) if c.get("system") == CATALOG_SYSTEM), "")


def _analysis(od: dict[str, Any]) -> tuple[AnalysisEntry, list[tuple[str, str]]]:
    code = _local_code(od["code"])
    unit = (od.get("quantitativeDetails", {}).get("unit", {}).get("coding") or [{}])[0]
    alternatives = [e["valueCoding"]["code"] for e in od.get("extension", ()) if e.get("url") == EXT_ALT_UNIT]
    # system, code and display only: the LOINC assignment dates are the catalogue's trace, not the result's
    codings = tuple({k: c[k] for k in ("system", "code", "display") if k in c}
                    for c in od["code"].get("coding", ()) if c.get("system") != NABM_SYSTEM)
    entry = AnalysisEntry(code=code, label=od.get("preferredReportName") or od["code"].get("text", code),
                          codings=codings, numeric="Quantity" in od.get("permittedDataType", ()),
                          unit_code=unit.get("code", ""), unit_label=unit.get("display", unit.get("code", "")),
                          units=frozenset([*([unit["code"]] if unit.get("code") else []), *alternatives]))
    instruments = []
    for ext in (e for e in od.get("extension", ()) if e.get("url") == EXT_INSTRUMENT):
        parts = {i["url"]: i.get("valueString", "") for i in ext.get("extension", ())}
        if parts.get("analyzer") and parts.get("code"):
            instruments.append((parts["analyzer"], parts["code"]))
    return entry, instruments


def catalog_view(stored: StoredCatalog) -> CatalogView:
    """The analyzers' index of one catalogue read (pure: ``StoredCatalog.derived`` keeps it with that read)."""
    view = CatalogView()
    by_id: dict[str, str] = {}
    of_type = {rtype: [r for r in stored.resources if r["resourceType"] == rtype]
               for rtype in ("ObservationDefinition", "ActivityDefinition", "Device")}
    for od in of_type["ObservationDefinition"]:
        entry, instruments = _analysis(od)
        if not entry.code:
            continue
        view.analyses[entry.code] = entry
        by_id[od["id"]] = entry.code
        for analyzer, test in instruments:
            view.by_instrument[(analyzer, test)] = entry.code
    for ad in of_type["ActivityDefinition"]:
        refs = [r.get("reference", "").split("/", 1)[-1] for r in ad.get("observationResultRequirement", ())]
        view.exams[_local_code(ad.get("code", {}))] = tuple(by_id[r] for r in refs if r in by_id)
    for device in of_type["Device"]:
        for ident in device.get("identifier", ()):
            if ident.get("system") == ANALYZER_SYSTEM:
                view.devices[ident["value"]] = f"Device/{device['id']}"
    log.info("analyzer catalogue view: %d analyses, %d instrument codes, %d exams, %d analyzers",
             len(view.analyses), len(view.by_instrument), len(view.exams), len(view.devices))
    return view


async def current_view(catalogue: CatalogRepository, session: StoreSession | None = None) -> CatalogView:
    """The view of the catalogue as it is now (in ``session``'s transaction when given)."""
    return (await catalogue.current(session=session)).derived(catalog_view)
