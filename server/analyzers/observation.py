"""Build the FHIR resources of one received result: the Observation and, when unmatched, its Task.

Every result becomes an ``Observation`` with status ``preliminary`` (a value exists, nobody has
validated it). A matched one has the catalogue code (local + LOINC), the UCUM unit, ``specimen``,
``subject`` and ``basedOn``. An unmatched one (unknown tube, unknown test code, analysis not
ordered on that tube, unit not in the catalogue) keeps what is known and gets a ``Task``
``unmatched-result`` (status ``requested``) whose ``focus`` is the Observation and whose
``statusReason`` says why: the worklist is ``Task?code=unmatched-result&status=requested``.

What the instrument said (flags, raw value and unit, its status, run time) is kept as received in
the ``instrument-result`` extension; the validation workflow computes its own interpretation.
Pure functions: no store access here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from server.analyzers.catalog_view import AnalysisEntry
from server.analyzers.incoming import RESULT_ID_SYSTEM, IncomingResult
from terminology import UCUM_SYSTEM

BASE = "https://opensgl.org/fhir"
EXT_INSTRUMENT_RESULT = f"{BASE}/StructureDefinition/instrument-result"
INSTRUMENT_CODE_SYSTEM = f"{BASE}/CodeSystem/automate"
TASK_CODE_SYSTEM = f"{BASE}/CodeSystem/taches"
UNMATCHED_REASON_SYSTEM = f"{BASE}/CodeSystem/resultat-non-rattache"
UNMATCHED_TASK = "unmatched-result"
UNNAMED = "inconnu"
LAB_CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory", "display": "Laboratory"}]}


@dataclass(frozen=True)
class Match:
    """What was found for a result; ``problem`` (a reason code) and ``detail`` when it is unmatched."""

    analysis: AnalysisEntry | None = None
    specimen: dict[str, Any] | None = None
    request: dict[str, Any] | None = None
    device: str | None = None
    problem: str | None = None
    detail: str = ""


def _number(text: str) -> int | float | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return int(value) if value == value.to_integral_value() and "." not in text else float(value)


def unit_problem(result: IncomingResult, analysis: AnalysisEntry) -> str:
    """Why the received unit cannot be taken as one of the analysis's units ('' when it can)."""
    if not analysis.numeric or not result.units or result.units in analysis.units \
            or result.units == analysis.unit_label:
        return ""
    return (f"unit {result.units!r} of {result.analyzer} test {result.test_code} is not a unit of "
            f"analysis {analysis.code} ({', '.join(sorted(analysis.units)) or 'none'})")


def value_problem(result: IncomingResult, analysis: AnalysisEntry) -> str:
    if analysis.numeric and result.value and _number(result.value) is None:
        return f"value {result.value!r} is not a number although analysis {analysis.code} is numeric"
    return ""


def _value(result: IncomingResult, match: Match) -> dict[str, Any]:
    number = _number(result.value)
    analysis = match.analysis
    if number is None or (analysis is not None and not analysis.numeric):
        return {"valueString": result.value} if result.value else {}
    quantity: dict[str, Any] = {"value": number}
    if result.comparator:
        quantity["comparator"] = result.comparator
    if analysis is not None and match.problem is None:
        code = result.units if result.units in analysis.units else analysis.unit_code
        label = analysis.unit_label if code == analysis.unit_code else code
        quantity.update(unit=label, system=UCUM_SYSTEM, code=code)
    elif result.units:
        quantity["unit"] = result.units
    return {"valueQuantity": quantity}


def _instrument_extension(result: IncomingResult) -> dict[str, Any]:
    parts: list[tuple[str, str, str]] = [
        ("analyzer", "valueString", result.analyzer), ("testCode", "valueString", result.test_code),
        ("value", "valueString", result.value), ("comparator", "valueString", result.comparator),
        ("unit", "valueString", result.units), ("referenceRange", "valueString", result.reference_range),
        *(("flag", "valueString", f) for f in result.flags), ("status", "valueString", result.instrument_status),
        ("runTime", "valueDateTime", result.run_at), ("source", "valueString", result.source),
    ]
    return {"url": EXT_INSTRUMENT_RESULT, "extension": [{"url": u, kind: v} for u, kind, v in parts if v]}


def build_observation(result: IncomingResult, match: Match, *, issued: str) -> dict[str, Any]:
    # an analyzer that sends no name or no test code still gets its result kept (and on the worklist)
    instrument = {"system": f"{INSTRUMENT_CODE_SYSTEM}/{quote(result.analyzer or UNNAMED, safe='')}",
                  "code": result.test_code, "display": result.test_name}
    instrument = {k: v for k, v in instrument.items() if v}
    if match.analysis is not None:
        code = {"coding": [*match.analysis.codings, instrument], "text": match.analysis.label}
    else:
        code = {"text": result.test_name or result.test_code or "test non identifié"}
        if "code" in instrument:
            code["coding"] = [instrument]
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "extension": [_instrument_extension(result)],
        "identifier": [{"system": RESULT_ID_SYSTEM, "value": result.key}],
        "status": "preliminary",
        "category": [LAB_CATEGORY],
        "code": code,
    }
    specimen = match.specimen
    if match.request is not None:
        obs["basedOn"] = [{"reference": f"ServiceRequest/{match.request['id']}"}]
    if specimen is not None and specimen.get("subject"):
        obs["subject"] = {"reference": specimen["subject"]["reference"]}
    collected = (specimen or {}).get("collection", {}).get("collectedDateTime")
    obs["effectiveDateTime"] = collected or result.run_at
    obs["issued"] = issued
    obs.update(_value(result, match))
    if result.reference_range:
        obs["referenceRange"] = [{"text": result.reference_range}]
    if specimen is not None:
        obs["specimen"] = {"reference": f"Specimen/{specimen['id']}"}
    if match.device is not None:
        obs["device"] = {"reference": match.device}
    return {k: v for k, v in obs.items() if v is not None and v != ""}


def filled(awaiting: dict[str, Any], observation: dict[str, Any]) -> dict[str, Any]:
    """A ``registered`` Observation awaiting its value, completed with a received result.

    It keeps its id, its links and notes (``replaces``, the rerun reason) and its order; the result
    brings the value, identifier, status, device, times and the instrument's own data.
    """
    kept = [e for e in awaiting.get("extension", ()) if e.get("url") != EXT_INSTRUMENT_RESULT]
    out = {**observation, "id": awaiting["id"], "extension": [*kept, *observation["extension"]]}
    for name in ("basedOn", "note", "encounter"):
        if name in awaiting:
            out[name] = awaiting[name]
    return out


def build_task(result: IncomingResult, match: Match, observation_id: str, *, authored: str) -> dict[str, Any]:
    """The worklist entry for an unmatched result: a person attaches it or rejects it."""
    assert match.problem is not None
    task: dict[str, Any] = {
        "resourceType": "Task",
        "identifier": [{"system": RESULT_ID_SYSTEM, "value": result.key}],
        "status": "requested",
        "intent": "order",
        "priority": "routine",
        "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": UNMATCHED_TASK,
                             "display": "Résultat d'automate non rattaché"}]},
        "statusReason": {"coding": [{"system": UNMATCHED_REASON_SYSTEM, "code": match.problem}],
                         "text": match.detail},
        "description": f"{result.source}: {match.detail}",
        "focus": {"reference": f"Observation/{observation_id}"},
        "authoredOn": authored,
        "input": [{"type": {"text": name}, "valueString": value}
                  for name, value in (("accession", result.specimen_id), ("analyzer", result.analyzer),
                                      ("test-code", result.test_code)) if value],
    }
    if match.specimen is not None and match.specimen.get("subject"):
        task["for"] = {"reference": match.specimen["subject"]["reference"]}
    return task
