"""FHIR R4 resources -> catalogue: how the server reads the catalogue back from its store.

The inverse of ``terminology.catalog.fhir``: give it the catalogue's ``CodeSystem``, its
``SpecimenDefinition``, ``Device``, ``ObservationDefinition`` and ``ActivityDefinition``
resources (any order; the ``ConceptMap`` and other types are ignored) and get the same
``Catalog`` back, validated. A resource the reader cannot understand raises ``InvalidCatalog``
with a FHIRPath-like expression naming the resource and the element.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from terminology.catalog.fhir import (
    ANALYZER_SYSTEM,
    CATALOG_SYSTEM,
    CONTAINER_SYSTEM,
    DATA_TYPE,
    EXT_ALT_UNIT,
    EXT_COFRAC,
    EXT_CONTAINER,
    EXT_INSTRUMENT,
    EXT_LOINC_DATES,
    EXT_LOINC_PARTS,
    EXT_SPECIMEN,
    EXT_SYNONYM,
    HL7_SPECIMEN_SYSTEM,
    NABM_SYSTEM,
    SPECIMEN_SYSTEM,
)
from terminology.catalog.model import (
    Analysis,
    Analyzer,
    Catalog,
    Chapter,
    Container,
    Exam,
    InstrumentCode,
    LoincAssignment,
    LoincParts,
    ReferenceInterval,
    ResultType,
    Sex,
    Specimen,
    SubChapter,
    Unit,
)
from terminology.errors import InvalidCatalog
from terminology.loinc import LOINC_SYSTEM

__all__ = ["catalog_from_fhir", "loinc_from_coding"]

_RESULT_TYPE = {v: k for k, v in DATA_TYPE.items()}


def _ext(resource: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in resource.get("extension", ()) if e.get("url") == url]


def _sub(ext: dict[str, Any], name: str) -> Any:
    for inner in ext.get("extension", ()):
        if inner.get("url") == name:
            return next((v for k, v in inner.items() if k.startswith("value")), None)
    return None


def loinc_from_coding(coding: dict[str, Any], where: str) -> LoincAssignment:
    """A LOINC ``Coding`` and its dates extension -> assignment (dates are mandatory: SGL.LOI.09)."""
    dates = _ext(coding, EXT_LOINC_DATES)
    if not dates or not _sub(dates[0], "created") or not _sub(dates[0], "modified"):
        raise InvalidCatalog("LOINC coding without its creation and modification dates", expression=where)
    return LoincAssignment(code=coding["code"], display=coding.get("display", ""),
                           created=datetime.fromisoformat(_sub(dates[0], "created")),
                           modified=datetime.fromisoformat(_sub(dates[0], "modified")),
                           source=_sub(dates[0], "source") or "")


def _codings(concept: dict[str, Any], system: str) -> list[dict[str, Any]]:
    return [c for c in concept.get("coding", ()) if c.get("system") == system]


def _loinc_of(concept: dict[str, Any], where: str) -> LoincAssignment | None:
    found = _codings(concept, LOINC_SYSTEM)
    if len(found) > 1:
        raise InvalidCatalog("several LOINC codings for one element", expression=where)
    return loinc_from_coding(found[0], where) if found else None


def _id_of(reference: str, prefix: str, where: str) -> str:
    kind, _, rid = reference.partition("/")
    if not rid.startswith(prefix + "-"):
        raise InvalidCatalog(f"unexpected reference {reference!r}", expression=where)
    return rid[len(prefix) + 1:]


def _dec(quantity: dict[str, Any] | None) -> Decimal | None:
    return None if quantity is None else Decimal(str(quantity["value"]))


def _chapters(code_system: dict[str, Any]) -> tuple[Chapter, ...]:
    def loinc(concept: dict[str, Any]) -> LoincAssignment | None:
        prop = next((p for p in concept.get("property", ()) if p.get("code") == "loinc"), None)
        return loinc_from_coding(prop["valueCoding"], f"CodeSystem.concept('{concept['code']}')") if prop else None

    def kind(concept: dict[str, Any]) -> str:
        return next((p["valueCode"] for p in concept.get("property", ()) if p.get("code") == "kind"), "")

    return tuple(
        Chapter(code=c["code"], label=c["display"], loinc=loinc(c),
                subchapters=tuple(SubChapter(code=s["code"], label=s["display"], loinc=loinc(s))
                                  for s in c.get("concept", ()) if kind(s) == "subchapter"))
        for c in code_system.get("concept", ()) if kind(c) == "chapter")


def _placing(codings: list[dict[str, Any]], chapters: set[str]) -> tuple[str, str | None]:
    codes = [c["code"] for c in codings if c.get("system") == CATALOG_SYSTEM]
    chapter = next((c for c in codes if c in chapters), "")
    return chapter, next((c for c in codes if c != chapter), None)


def _interval(q: dict[str, Any]) -> ReferenceInterval:
    age = q.get("age", {})
    return ReferenceInterval(low=_dec(q["range"].get("low")), high=_dec(q["range"].get("high")),
                             sex=Sex(q["gender"]) if q.get("gender") else None,
                             age_min=_dec(age.get("low")), age_max=_dec(age.get("high")))


def _analysis(od: dict[str, Any], chapters: set[str]) -> Analysis:
    where = f"ObservationDefinition/{od.get('id')}"
    parts = {p: _sub(_ext(od, EXT_LOINC_PARTS)[0], p) or "" for p in ("component", "property", "time", "scale",
                                                                       "method")}
    local = _codings(od["code"], CATALOG_SYSTEM)[0]
    chapter, sub = _placing(od.get("category", [{}])[0].get("coding", []), chapters)
    unit_cc = od.get("quantitativeDetails", {}).get("unit")
    unit = Unit(unit_cc["coding"][0]["code"], unit_cc["coding"][0].get("display", "")) if unit_cc else None
    intervals = od.get("qualifiedInterval", [])
    critical = [q["range"] for q in intervals if q.get("category") == "critical"]
    return Analysis(
        code=local["code"], label=local["display"], chapter=chapter, subchapter=sub,
        specimen=_id_of(_ext(od, EXT_SPECIMEN)[0]["valueReference"]["reference"], "specimen", where),
        parts=LoincParts(**parts), result_type=ResultType(_RESULT_TYPE[od["permittedDataType"][0]]),
        synonyms=tuple(e["valueString"] for e in _ext(od, EXT_SYNONYM)), unit=unit,
        alt_units=tuple(Unit(e["valueCoding"]["code"], e["valueCoding"].get("display", ""))
                        for e in _ext(od, EXT_ALT_UNIT)),
        decimals=od.get("quantitativeDetails", {}).get("decimalPrecision"),
        reference_intervals=tuple(_interval(q) for q in intervals if q.get("category") == "reference"),
        critical_low=next((_dec(r.get("high")) for r in critical if "low" not in r), None),
        critical_high=next((_dec(r.get("low")) for r in critical if "high" not in r), None),
        cofrac=bool(_ext(od, EXT_COFRAC) and _ext(od, EXT_COFRAC)[0]["valueBoolean"]),
        instrument_codes=tuple(InstrumentCode(_sub(e, "analyzer"), _sub(e, "code")) for e in _ext(od, EXT_INSTRUMENT)),
        nabm=tuple(c["code"] for c in _codings(od["code"], NABM_SYSTEM)),
        loinc=_loinc_of(od["code"], f"{where}.code"),
    )


def _exam(ad: dict[str, Any], chapters: set[str]) -> Exam:
    where = f"ActivityDefinition/{ad.get('id')}"
    local = _codings(ad["code"], CATALOG_SYSTEM)[0]
    chapter, sub = _placing(ad.get("topic", [{}])[0].get("coding", []), chapters)
    return Exam(
        code=local["code"], label=local["display"], chapter=chapter, subchapter=sub,
        specimen=_id_of(ad["specimenRequirement"][0]["reference"], "specimen", where),
        container=_ext(ad, EXT_CONTAINER)[0]["valueCoding"]["code"],
        analyses=tuple(_id_of(r["reference"], "analysis", where) for r in ad.get("observationResultRequirement", ())),
        synonyms=tuple(e["valueString"] for e in _ext(ad, EXT_SYNONYM)),
        nabm=tuple(c["code"] for c in _codings(ad["code"], NABM_SYSTEM)),
        loinc=_loinc_of(ad["code"], f"{where}.code"),
    )


def _specimen(sd: dict[str, Any]) -> tuple[Specimen, list[Container]]:
    collected = sd["typeCollected"]
    local = _codings(collected, SPECIMEN_SYSTEM)[0]
    hl7 = _codings(collected, HL7_SPECIMEN_SYSTEM)
    specimen = Specimen(code=local["code"], label=local["display"],
                        loinc_system=_sub(_ext(sd, EXT_LOINC_PARTS)[0], "system") or "",
                        hl7_code=hl7[0]["code"] if hl7 else "")
    containers = [Container(c["code"], c.get("display", "")) for t in sd.get("typeTested", ())
                  for c in _codings(t.get("container", {}).get("type", {}), CONTAINER_SYSTEM)]
    return specimen, containers


def catalog_from_fhir(resources: Iterable[dict[str, Any]]) -> Catalog:
    """Rebuild the catalogue from its FHIR resources; ``InvalidCatalog`` names what is missing or wrong."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_type.setdefault(resource.get("resourceType", ""), []).append(resource)
    systems = [cs for cs in by_type.get("CodeSystem", ()) if cs.get("url") == CATALOG_SYSTEM]
    if len(systems) != 1:
        raise InvalidCatalog(f"expected one CodeSystem {CATALOG_SYSTEM}, got {len(systems)}", expression="CodeSystem")
    current = "CodeSystem"
    try:
        chapters = _chapters(systems[0])
        codes = {c.code for c in chapters}
        specimens: list[Specimen] = []
        containers: dict[str, Container] = {}
        for sd in by_type.get("SpecimenDefinition", ()):
            current = f"SpecimenDefinition/{sd.get('id')}"
            specimen, found = _specimen(sd)
            specimens.append(specimen)
            containers.update((c.code, c) for c in found)
        analyzers = []
        for dev in by_type.get("Device", ()):
            current = f"Device/{dev.get('id')}"
            ident = next(i for i in dev.get("identifier", ()) if i.get("system") == ANALYZER_SYSTEM)
            analyzers.append(Analyzer(ident["value"], dev["deviceName"][0]["name"],
                                      dev.get("type", {}).get("text", "")))
        analyses = []
        for od in by_type.get("ObservationDefinition", ()):
            current = f"ObservationDefinition/{od.get('id')}"
            analyses.append(_analysis(od, codes))
        exams = []
        for ad in by_type.get("ActivityDefinition", ()):
            current = f"ActivityDefinition/{ad.get('id')}"
            exams.append(_exam(ad, codes))
    except (KeyError, IndexError, StopIteration, TypeError, ValueError) as exc:
        raise InvalidCatalog(f"cannot read the catalogue from {current}: {exc!r}", expression=current) from exc
    return Catalog(chapters=chapters, specimens=tuple(specimens), containers=tuple(containers.values()),
                   analyzers=tuple(analyzers), analyses=tuple(analyses), exams=tuple(exams))
