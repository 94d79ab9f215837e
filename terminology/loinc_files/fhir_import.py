"""LOINC_4bis–6bis: the transcoding returned as a FHIR ``ConceptMap`` (SGL.LOI.10, optional).

The provider answers with a ConceptMap whose group maps our catalogue ``CodeSystem`` to
``http://loinc.org``: one element per chapter, sub-chapter, exam or analysis, its target the
LOINC code. The checks and the report are those of the CSV imports (SGL.LOI.07); entries are
numbered by element and point at ``ConceptMap.group[g].element[e]``.
"""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput
from terminology.catalog.fhir import CATALOG_SYSTEM
from terminology.catalog.model import Catalog, Target
from terminology.loinc import LOINC_SYSTEM
from terminology.loinc_files.candidates import Candidate, ImportResult, LineError, one_loinc, record, to_changes
from terminology.loinc_files.report import Finding, ImportReport

__all__ = ["parse_concept_map_import"]

_UNRELATED = {"unmatched", "disjoint", "not-related-to"}
_SEARCH_ORDER = (Target.ANALYSIS, Target.EXAM, Target.SUBCHAPTER, Target.CHAPTER)


def _element(catalog: Catalog, element: dict[str, Any], number: int, where: str) -> list[Candidate]:
    code = str(element.get("code", "")).strip()
    target = next((t for t in _SEARCH_ORDER if code and catalog.find(t, code) is not None), None)
    if target is None:
        raise LineError(Finding.UNKNOWN_LOCAL_CODE, f"code local inconnu du catalogue : {code!r}")
    mapped = [t for t in element.get("target", ()) if t.get("equivalence", t.get("relationship")) not in _UNRELATED]
    loinc = one_loinc([str(t.get("code", "")) for t in mapped], f"{where}.target")
    if loinc is None:
        return []
    display = next((str(t.get("display", "")) for t in mapped if t.get("code") == loinc), "")
    return [Candidate(target, code, loinc, display, number)]


def parse_concept_map_import(concept_map: dict[str, Any], catalog: Catalog,
                             circuit_value_set: set[str] | frozenset[str]) -> ImportResult:
    """Check a provider's ConceptMap and return the changes and the report, like ``parse_loinc_import``."""
    if concept_map.get("resourceType") != "ConceptMap":
        raise InvalidInput("a LOINC_4bis-6bis import must be a FHIR ConceptMap", expression="resourceType")
    groups = [(g, group) for g, group in enumerate(concept_map.get("group", ()))
              if group.get("source") == CATALOG_SYSTEM and group.get("target") == LOINC_SYSTEM]
    if not groups:
        raise InvalidInput(f"no ConceptMap.group maps {CATALOG_SYSTEM} to {LOINC_SYSTEM}",
                           expression="ConceptMap.group")
    name = f"ConceptMap/{concept_map.get('id', '')}"
    report = ImportReport(file_name=name, file_number=0)
    candidates: list[Candidate] = []
    number = 0
    for g, group in groups:
        for e, element in enumerate(group.get("element", ())):
            number += 1
            where = f"ConceptMap.group[{g}].element[{e}]"
            report.locations[number] = where
            report.data_lines += 1
            try:
                found = _element(catalog, element, number, where)
            except LineError as err:
                report.add(number, err.finding, err.message)
                continue
            record(report, number, found, circuit_value_set)
            candidates.extend(found)
    return to_changes(candidates, catalog, report, lambda n: f"{name}#{report.locations[n]}")
