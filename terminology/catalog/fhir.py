"""Catalogue -> FHIR R4 resources (plain JSON dicts), the form the store keeps and serves.

- one ``CodeSystem`` of local codes: chapters > sub-chapters > exams and analyses, with each
  concept's LOINC code as a property (the chapter hierarchy of SGL.LOI.01/04);
- one ``SpecimenDefinition`` per specimen type, one ``Device`` per analyzer;
- one ``ObservationDefinition`` per result analysis: local + LOINC codings, UCUM unit and
  decimals, reference intervals by sex and age, critical limits;
- one ``ActivityDefinition`` per orderable exam, pointing at its analyses and specimen;
- one ``ConceptMap`` local -> LOINC.

What R4 has no element for (LOINC axes, alternative units, Cofrac, analyzer test codes, the
dates of a LOINC code) travels in extensions under ``EXT``, so that ``catalog_from_fhir`` can
read the catalogue back from the store unchanged. Ids are ``<kind>-<local code>``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from terminology.catalog.changes import LoincChange
from terminology.catalog.model import (
    Analysis,
    Analyzer,
    Catalog,
    Exam,
    LoincAssignment,
    ReferenceInterval,
    ResultType,
    Specimen,
    Target,
    Unit,
)
from terminology.loinc import LOINC_SYSTEM
from terminology.ucum import UCUM_SYSTEM

BASE = "https://opensgl.org/fhir"
CATALOG_SYSTEM = f"{BASE}/CodeSystem/catalogue"
CATALOG_VALUE_SET = f"{BASE}/ValueSet/catalogue"  # all codes of CATALOG_SYSTEM
SPECIMEN_SYSTEM = f"{BASE}/CodeSystem/milieux"
CONTAINER_SYSTEM = f"{BASE}/CodeSystem/contenants"
ANALYZER_SYSTEM = f"{BASE}/sid/automate"
CONCEPT_MAP_URL = f"{BASE}/ConceptMap/catalogue-loinc"
NABM_SYSTEM = "https://smt.esante.gouv.fr/terminologie-nabm"
HL7_SPECIMEN_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0487"
EXT = f"{BASE}/StructureDefinition"
EXT_LOINC_DATES = f"{EXT}/loinc-assignment"
EXT_LOINC_PARTS = f"{EXT}/loinc-parts"
EXT_ALT_UNIT = f"{EXT}/alternative-unit"
EXT_COFRAC = f"{EXT}/cofrac-accredited"
EXT_INSTRUMENT = f"{EXT}/instrument-test-code"
EXT_SYNONYM = f"{EXT}/synonym"
EXT_SPECIMEN = f"{EXT}/specimen"
EXT_CONTAINER = f"{EXT}/container"
PART_NAMES = ("component", "property", "time", "scale", "method")
DATA_TYPE = {ResultType.NUMERIC: "Quantity", ResultType.CODED: "CodeableConcept", ResultType.TEXT: "string"}


def resource_id(target: Target | str, code: str) -> str:
    return f"{target}-{code}"


def _num(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)


def loinc_coding(assignment: LoincAssignment) -> dict[str, Any]:
    """A LOINC ``Coding`` carrying the creation and modification dates of the code (SGL.LOI.09)."""
    dates: list[dict[str, Any]] = [{"url": "created", "valueDateTime": assignment.created.isoformat()},
                                   {"url": "modified", "valueDateTime": assignment.modified.isoformat()}]
    if assignment.source:
        dates.append({"url": "source", "valueString": assignment.source})
    coding: dict[str, Any] = {"system": LOINC_SYSTEM, "code": assignment.code}
    if assignment.display:
        coding["display"] = assignment.display
    coding["extension"] = [{"url": EXT_LOINC_DATES, "extension": dates}]
    return coding


def _local(code: str, label: str) -> dict[str, Any]:
    return {"system": CATALOG_SYSTEM, "code": code, "display": label}


def _code(code: str, label: str, loinc: LoincAssignment | None, extra: list[dict[str, Any]]) -> dict[str, Any]:
    codings = [_local(code, label)] + ([loinc_coding(loinc)] if loinc else []) + extra
    return {"coding": codings, "text": label}


def _unit_coding(unit: Unit) -> dict[str, Any]:
    return {"system": UCUM_SYSTEM, "code": unit.code, "display": unit.label}


def _quantity(value: Decimal, unit: Unit | None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": _num(value)}
    if unit:
        out.update(unit=unit.label, system=UCUM_SYSTEM, code=unit.code)
    return out


def _range(low: Decimal | None, high: Decimal | None, unit: Unit | None) -> dict[str, Any]:
    out = {}
    if low is not None:
        out["low"] = _quantity(low, unit)
    if high is not None:
        out["high"] = _quantity(high, unit)
    return out


def _interval(interval: ReferenceInterval, unit: Unit | None) -> dict[str, Any]:
    out: dict[str, Any] = {"category": "reference", "range": _range(interval.low, interval.high, unit)}
    if interval.sex:
        out["gender"] = str(interval.sex)
    if interval.age_min is not None or interval.age_max is not None:
        out["age"] = _range(interval.age_min, interval.age_max, Unit("a", "ans"))
    return out


def _concept(code: str, label: str, kind: str, loinc: LoincAssignment | None, synonyms: tuple[str, ...] = (),
             children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"code": code, "display": label, "property": [{"code": "kind", "valueCode": kind}]}
    if loinc:
        concept["property"].append({"code": "loinc", "valueCoding": loinc_coding(loinc)})
    if synonyms:
        concept["designation"] = [{"language": "fr", "value": s} for s in synonyms]
    if children:
        concept["concept"] = children
    return concept


def code_system(catalog: Catalog) -> dict[str, Any]:
    """The local codes, nested chapter > sub-chapter > exam / analysis."""

    def members(chapter: str, sub: str | None) -> list[dict[str, Any]]:
        exams = [_concept(e.code, e.label, "exam", e.loinc, e.synonyms) for e in catalog.exams
                 if e.chapter == chapter and e.subchapter == sub]
        return exams + [_concept(a.code, a.label, "analysis", a.loinc, a.synonyms) for a in catalog.analyses
                        if a.chapter == chapter and a.subchapter == sub]

    concepts = [
        _concept(c.code, c.label, "chapter", c.loinc, children=[
            _concept(s.code, s.label, "subchapter", s.loinc, children=members(c.code, s.code))
            for s in c.subchapters] + members(c.code, None))
        for c in catalog.chapters]
    count = len(catalog.chapters) + sum(len(c.subchapters) for c in catalog.chapters) \
        + len(catalog.exams) + len(catalog.analyses)
    return {
        "resourceType": "CodeSystem", "id": "catalogue", "url": CATALOG_SYSTEM, "name": "CatalogueLocal",
        "title": "Catalogue des analyses du laboratoire", "status": "active", "content": "complete",
        "hierarchyMeaning": "grouped-by", "caseSensitive": True, "valueSet": CATALOG_VALUE_SET, "count": count,
        "property": [
            {"code": "kind", "type": "code", "description": "chapter | subchapter | exam | analysis"},
            {"code": "loinc", "type": "Coding", "description": "LOINC code, with its dates in an extension"},
        ],
        "concept": concepts,
    }


def specimen_definition(specimen: Specimen, catalog: Catalog) -> dict[str, Any]:
    codings = [{"system": SPECIMEN_SYSTEM, "code": specimen.code, "display": specimen.label}]
    if specimen.hl7_code:
        codings.append({"system": HL7_SPECIMEN_SYSTEM, "code": specimen.hl7_code})
    containers = list(dict.fromkeys(e.container for e in catalog.exams if e.specimen == specimen.code))
    labels = {c.code: c.label for c in catalog.containers}
    return {
        "resourceType": "SpecimenDefinition", "id": resource_id("specimen", specimen.code),
        "identifier": {"system": SPECIMEN_SYSTEM, "value": specimen.code},
        "typeCollected": {"coding": codings, "text": specimen.label},
        "extension": [{"url": EXT_LOINC_PARTS, "extension": [{"url": "system", "valueString": specimen.loinc_system}]}],
        "typeTested": [{"preference": "preferred", "container": {"type": {
            "coding": [{"system": CONTAINER_SYSTEM, "code": c, "display": labels[c]}], "text": labels[c]}}}
            for c in containers],
    }


def device(analyzer: Analyzer) -> dict[str, Any]:
    return {"resourceType": "Device", "id": resource_id("analyzer", analyzer.code),
            "identifier": [{"system": ANALYZER_SYSTEM, "value": analyzer.code}],
            "deviceName": [{"name": analyzer.label, "type": "user-friendly-name"}],
            "type": {"text": analyzer.discipline}}


def _analysis_extensions(a: Analysis) -> list[dict[str, Any]]:
    ext: list[dict[str, Any]] = [
        {"url": EXT_LOINC_PARTS, "extension": [{"url": n, "valueString": getattr(a.parts, n)}
                                               for n in PART_NAMES if getattr(a.parts, n)]},
        {"url": EXT_SPECIMEN, "valueReference": {"reference": f"SpecimenDefinition/specimen-{a.specimen}"}},
        {"url": EXT_COFRAC, "valueBoolean": a.cofrac},
    ]
    ext += [{"url": EXT_ALT_UNIT, "valueCoding": _unit_coding(u)} for u in a.alt_units]
    ext += [{"url": EXT_SYNONYM, "valueString": s} for s in a.synonyms]
    ext += [{"url": EXT_INSTRUMENT, "extension": [{"url": "analyzer", "valueString": i.analyzer},
                                                  {"url": "code", "valueString": i.code}]}
            for i in a.instrument_codes]
    return ext


def observation_definition(a: Analysis, catalog: Catalog) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "ObservationDefinition", "id": resource_id(Target.ANALYSIS, a.code),
        "extension": _analysis_extensions(a),
        "identifier": [{"system": CATALOG_SYSTEM, "value": a.code}],
        "category": _placing(catalog, a.chapter, a.subchapter),
        "code": _code(a.code, a.label, a.loinc, [{"system": NABM_SYSTEM, "code": n} for n in a.nabm]),
        "permittedDataType": [DATA_TYPE[a.result_type]],
        "preferredReportName": a.label,
    }
    if a.parts.method:
        out["method"] = {"text": a.parts.method}
    if a.unit or a.decimals is not None:
        out["quantitativeDetails"] = {k: v for k, v in (
            ("unit", {"coding": [_unit_coding(a.unit)], "text": a.unit.label} if a.unit else None),
            ("decimalPrecision", a.decimals)) if v is not None}
    intervals = [_interval(i, a.unit) for i in a.reference_intervals]
    if a.critical_low is not None:  # values at or below the limit are critical
        intervals.append({"category": "critical", "range": _range(None, a.critical_low, a.unit)})
    if a.critical_high is not None:
        intervals.append({"category": "critical", "range": _range(a.critical_high, None, a.unit)})
    if intervals:
        out["qualifiedInterval"] = intervals
    return out


def _placing(catalog: Catalog, chapter: str, sub: str | None) -> list[dict[str, Any]]:
    """The chapter (and sub-chapter) codings of an analysis or exam."""
    labels = {c.code: c.label for c in catalog.chapters} | {
        s.code: s.label for c in catalog.chapters for s in c.subchapters}
    return [{"coding": [_local(code, labels[code]) for code in (chapter, sub) if code]}]


def activity_definition(e: Exam, catalog: Catalog) -> dict[str, Any]:
    nabm = [{"system": NABM_SYSTEM, "code": n} for n in e.nabm]
    ext = [{"url": EXT_CONTAINER, "valueCoding": {"system": CONTAINER_SYSTEM, "code": e.container}}]
    ext += [{"url": EXT_SYNONYM, "valueString": s} for s in e.synonyms]
    return {
        "resourceType": "ActivityDefinition", "id": resource_id(Target.EXAM, e.code),
        "extension": ext,
        "url": f"{BASE}/ActivityDefinition/{resource_id(Target.EXAM, e.code)}",
        "identifier": [{"system": CATALOG_SYSTEM, "value": e.code}],
        "name": "Examen" + "".join(ch for ch in e.code if ch.isalnum()), "title": e.label, "status": "active",
        "topic": _placing(catalog, e.chapter, e.subchapter), "kind": "ServiceRequest",
        "code": _code(e.code, e.label, e.loinc, nabm),
        "specimenRequirement": [{"reference": f"SpecimenDefinition/{resource_id('specimen', e.specimen)}"}],
        "observationResultRequirement": [
            {"reference": f"ObservationDefinition/{resource_id(Target.ANALYSIS, code)}"} for code in e.analyses],
    }


def concept_map(catalog: Catalog) -> dict[str, Any]:
    """Local code -> LOINC, one group (SGL.LOI.10 in FHIR form)."""
    labelled = [(c.code, c.label, c.loinc) for c in catalog.chapters] + [
        (s.code, s.label, s.loinc) for c in catalog.chapters for s in c.subchapters] + [
        (e.code, e.label, e.loinc) for e in catalog.exams] + [(a.code, a.label, a.loinc) for a in catalog.analyses]
    return {
        "resourceType": "ConceptMap", "id": "catalogue-loinc", "url": CONCEPT_MAP_URL, "name": "CatalogueVersLoinc",
        "title": "Transcodage du catalogue local vers LOINC", "status": "active",
        "sourceCanonical": CATALOG_VALUE_SET, "targetUri": "http://loinc.org/vs",
        "group": [{"source": CATALOG_SYSTEM, "target": LOINC_SYSTEM, "element": [
            {"code": code, "display": label, "target": [
                {k: v for k, v in (("code", loinc.code), ("display", loinc.display), ("equivalence", "equivalent"))
                 if v}]}
            for code, label, loinc in labelled if loinc]}],
    }


def catalog_to_fhir(catalog: Catalog) -> list[dict[str, Any]]:
    """Every resource of the catalogue, referenced ones first (a transaction bundle can keep this order)."""
    return ([code_system(catalog)] + [specimen_definition(s, catalog) for s in catalog.specimens]
            + [device(a) for a in catalog.analyzers]
            + [observation_definition(a, catalog) for a in catalog.analyses]
            + [activity_definition(e, catalog) for e in catalog.exams] + [concept_map(catalog)])


def changed_resources(catalog: Catalog, changes: list[LoincChange] | tuple[LoincChange, ...]) -> list[dict[str, Any]]:
    """The resources to write after ``apply_changes``: every touched definition, the CodeSystem and the ConceptMap.

    ``catalog`` is the catalogue *after* the changes; the server writes the list in one transaction.
    """
    if not changes:
        return []
    touched = {(c.target, c.local_code) for c in changes}
    return ([code_system(catalog)]
            + [observation_definition(a, catalog) for a in catalog.analyses if (Target.ANALYSIS, a.code) in touched]
            + [activity_definition(e, catalog) for e in catalog.exams if (Target.EXAM, e.code) in touched]
            + [concept_map(catalog)])
