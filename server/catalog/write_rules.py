"""Write rule: a LOINC code of the catalogue changes only through the catalogue's change operations.

SGL.LOI.08 asks for a manual edit of a LOINC code and SGL.LOI.09 for each code's creation and
modification dates to be kept as a trace. ``$set-loinc`` and ``$loinc-import`` (and the seed) keep
them: they check the code (format, check digit), date it, write every resource the change touches
(definition, CodeSystem, ConceptMap) in one transaction and record a Provenance naming who changed
it. A plain PUT (or batch entry, or conditional update) of a catalogue resource does none of that,
so a PUT that changes a LOINC coding, or its dates, is refused; the other edits of a definition
(label, unit, reference intervals) stay plain updates. The change operations write through
``server/catalog/writer.py``, which stamps ``CATALOGUE_STEP`` on their write intents.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from resources.codes import LOINC_SYSTEM
from resources.errors import RuleViolation
from resources.interactions import WriteIntent
from server.access.caller import Caller
from server.write_rules import WriteRules
from terminology import CATALOG_SYSTEM, CONCEPT_MAP_URL

CATALOGUE_STEP = "catalogue-change"
"""The step stamped on the writes of ``$set-loinc``, ``$loinc-import`` and the seed."""


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _concepts(concepts: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for concept in concepts:
        yield concept
        yield from _concepts(concept.get("concept", []))


def loinc_codings(resource: dict[str, Any] | None) -> frozenset[tuple[str, str]]:
    """``(catalogue element, LOINC coding with its dates)`` pairs a catalogue resource carries."""
    if not resource:
        return frozenset()
    rtype = resource.get("resourceType")
    if rtype in ("ObservationDefinition", "ActivityDefinition"):
        codings = (resource.get("code") or {}).get("coding", ())
        return frozenset(("", _canonical(c)) for c in codings if c.get("system") == LOINC_SYSTEM)
    if rtype == "CodeSystem" and resource.get("url") == CATALOG_SYSTEM:
        return frozenset((str(c.get("code")), _canonical(p.get("valueCoding")))
                         for c in _concepts(resource.get("concept", [])) for p in c.get("property", ())
                         if p.get("code") == "loinc")
    if rtype == "ConceptMap" and resource.get("url") == CONCEPT_MAP_URL:
        return frozenset((str(e.get("code")), _canonical(e.get("target", [])))
                         for g in resource.get("group", ()) if g.get("target") == LOINC_SYSTEM
                         for e in g.get("element", ()))
    return frozenset()


async def loinc_changed_only_by_operations(caller: Caller, intent: WriteIntent) -> dict[str, Any] | None:
    if intent.step == CATALOGUE_STEP or intent.action != "update" or intent.current is None:
        return intent.proposed
    before, after = loinc_codings(intent.current), loinc_codings(intent.proposed)
    if before != after:
        rtype = intent.resource_type
        elements = sorted({e for e, _ in before ^ after if e})
        where = f"{rtype}/{intent.current.get('id', '')}" + (f" ({', '.join(elements)})" if elements else "")
        raise RuleViolation("SGL.LOI.08", f"{where}: a LOINC code of the catalogue changes only through "
                            f"POST {rtype}/{{id}}/$set-loinc or ConceptMap/$loinc-import, which check the code, "
                            "keep its creation and modification dates (SGL.LOI.09) and record who changed it; "
                            "a plain update cannot", expression=f"{rtype}.code")
    return intent.proposed


def register_catalogue_rules(write_rules: WriteRules) -> None:
    for rtype in ("ObservationDefinition", "ActivityDefinition", "CodeSystem", "ConceptMap"):
        write_rules.add(rtype, loinc_changed_only_by_operations)
