"""What a result is judged against: its catalogue definition and the patient's sex and age.

The analysis is found by the Observation's catalogue (local) code, else by its LOINC code, among the
``ObservationDefinition`` resources of the catalogue as the application's ``CatalogRepository`` holds
it (indexed once per catalogue read: no search per result). Age is counted in completed years at collection
(``effectiveDateTime``, else the specimen's collection time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from resources.errors import NotFound, RuleViolation
from resources.store.base import FhirStore
from server.stored_catalog import CatalogRepository, StoredCatalog
from terminology import CATALOG_SYSTEM, LOINC_SYSTEM


@dataclass(frozen=True)
class ResultContext:
    definition: dict[str, Any]
    analysis_code: str
    """The catalogue's local code (keys the rules file)."""
    sex: str | None
    age: Decimal | None


def _coding(concept: dict[str, Any], system: str) -> str | None:
    return next((c["code"] for c in concept.get("coding", ()) if c.get("system") == system and c.get("code")), None)


def definitions_by_code(stored: StoredCatalog) -> dict[tuple[str, str], dict[str, Any]]:
    """(system, code) -> the catalogue's ObservationDefinition carrying that coding (the first, in
    catalogue order, when two carry the same LOINC code)."""
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for definition in (r for r in stored.resources if r["resourceType"] == "ObservationDefinition"):
        for coding in (definition.get("code") or {}).get("coding", ()):
            if coding.get("system") and coding.get("code"):
                index.setdefault((coding["system"], coding["code"]), definition)
    return index


async def find_definition(catalogue: CatalogRepository, observation: dict[str, Any]) -> dict[str, Any]:
    code = observation.get("code") or {}
    by_code = (await catalogue.current()).derived(definitions_by_code)
    for system in (CATALOG_SYSTEM, LOINC_SYSTEM):
        value = _coding(code, system)
        found = by_code.get((system, value)) if value is not None else None
        if found is not None:
            return dict(found)
    raise RuleViolation("VAL-03", "the result's code is not an analysis of the catalogue (no ObservationDefinition "
                        "with its local or LOINC code)", expression="Observation.code")


def _day(raw: str | None) -> date | None:
    if not raw or len(raw) < 10:
        return None  # a partial date gives no age
    return date.fromisoformat(raw[:10])


async def _collected(store: FhirStore, observation: dict[str, Any]) -> date | None:
    when = _day(observation.get("effectiveDateTime"))
    if when is not None:
        return when
    ref = (observation.get("specimen") or {}).get("reference", "")
    if ref.startswith("Specimen/"):
        specimen = (await store.read("Specimen", ref.split("/", 1)[1])).resource or {}
        return _day((specimen.get("collection") or {}).get("collectedDateTime"))
    return None


def completed_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


async def patient_of(store: FhirStore, observation: dict[str, Any]) -> dict[str, Any]:
    ref = (observation.get("subject") or {}).get("reference", "")
    if not ref.startswith("Patient/"):
        raise RuleViolation("VAL-04", "a result must have a Patient as subject", expression="Observation.subject")
    try:
        return (await store.read("Patient", ref.split("/", 1)[1])).resource or {}
    except NotFound as exc:
        raise RuleViolation("VAL-04", f"the result's subject {ref} does not exist",
                            expression="Observation.subject") from exc


async def result_context(store: FhirStore, catalogue: CatalogRepository, observation: dict[str, Any]) -> ResultContext:
    definition = await find_definition(catalogue, observation)
    local = next((i["value"] for i in definition.get("identifier", ()) if i.get("system") == CATALOG_SYSTEM), None)
    patient = await patient_of(store, observation)
    birth, collected = _day(patient.get("birthDate")), await _collected(store, observation)
    age = Decimal(completed_years(birth, collected)) if birth and collected else None
    sex = patient.get("gender") if patient.get("gender") in ("male", "female") else None
    return ResultContext(definition, local or _coding(definition.get("code") or {}, CATALOG_SYSTEM) or "", sex, age)
