"""What the analyzer workflow reads from the stored catalogue, indexed for matching results.

Read straight from the FHIR resources the catalogue is stored as (``terminology.catalog_to_fhir``):
``ObservationDefinition`` (local + LOINC codes, UCUM units, result type, analyzer test codes in the
``instrument-test-code`` extension), ``ActivityDefinition`` (the analyses of each orderable exam),
``Device`` (one per analyzer). Reading these rather than rebuilding a whole ``Catalog`` keeps the
workflow working while a catalogue edit is half-way (a missing SpecimenDefinition does not matter
here). The view is cached; ``CatalogCache`` reloads it on a miss (an analyzer code just added to the
catalogue) at most every ``MISS_RELOAD`` seconds, and every ``MAX_AGE`` seconds anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from resources.store.base import FhirStore
from server.analyzers.lookup import find_all
from terminology import ANALYZER_SYSTEM, CATALOG_SYSTEM, EXT_ALT_UNIT, EXT_INSTRUMENT, NABM_SYSTEM

log = logging.getLogger(__name__)
MAX_AGE = 300.0
MISS_RELOAD = 5.0


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
    loaded_at: float = 0.0

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


async def load_catalog_view(store: FhirStore) -> CatalogView:
    view = CatalogView(loaded_at=time.monotonic())
    definitions = await find_all(store, "ObservationDefinition", [])
    by_id: dict[str, str] = {}
    for od in definitions:
        entry, instruments = _analysis(od)
        if not entry.code:
            continue
        view.analyses[entry.code] = entry
        by_id[od["id"]] = entry.code
        for analyzer, test in instruments:
            view.by_instrument[(analyzer, test)] = entry.code
    for ad in await find_all(store, "ActivityDefinition", []):
        refs = [r.get("reference", "").split("/", 1)[-1] for r in ad.get("observationResultRequirement", ())]
        view.exams[_local_code(ad.get("code", {}))] = tuple(by_id[r] for r in refs if r in by_id)
    for device in await find_all(store, "Device", []):
        for ident in device.get("identifier", ()):
            if ident.get("system") == ANALYZER_SYSTEM:
                view.devices[ident["value"]] = f"Device/{device['id']}"
    log.info("analyzer catalogue view: %d analyses, %d instrument codes, %d exams, %d analyzers",
             len(view.analyses), len(view.by_instrument), len(view.exams), len(view.devices))
    return view


class CatalogCache:
    """The current ``CatalogView``, reloaded when old or when a result names an unknown code."""

    def __init__(self, store: FhirStore) -> None:
        self.store = store
        self._view: CatalogView | None = None
        self._lock = asyncio.Lock()

    async def get(self, *, missed: bool = False) -> CatalogView:
        view = self._view
        now = time.monotonic()
        stale = view is None or now - view.loaded_at > MAX_AGE or (missed and now - view.loaded_at > MISS_RELOAD)
        if not stale and view is not None:
            return view
        async with self._lock:
            if self._view is view:  # nobody reloaded it while we waited
                self._view = await load_catalog_view(self.store)
            assert self._view is not None
            return self._view

