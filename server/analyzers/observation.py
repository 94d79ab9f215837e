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

from resources.decimals import exact_number
from server.analyzers.catalog_view import AnalysisEntry
from server.analyzers.incoming import RESULT_ID_SYSTEM, IncomingResult, PatientHint, RefusedIncoming
from terminology import UCUM_SYSTEM

BASE = "https://opensgl.org/fhir"
EXT_INSTRUMENT_RESULT = f"{BASE}/StructureDefinition/instrument-result"
INSTRUMENT_CODE_SYSTEM = f"{BASE}/CodeSystem/automate"
TASK_CODE_SYSTEM = f"{BASE}/CodeSystem/taches"
UNMATCHED_REASON_SYSTEM = f"{BASE}/CodeSystem/resultat-non-rattache"
UNMATCHED_TASK = "unmatched-result"
UNNAMED = "inconnu"
DATA_ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
ABSENT_BY_STATUS = {
    "X": ("error", "Error", "the analyzer could not obtain a result (status X)"),
    "N": ("not-asked", "Not Asked", "the analyzer says this test was not asked (status N)"),
}
"""Why a result sent without a value has none, by its status (HL7 OBX-11 / ASTM R.9). X (no result can be
obtained) and N (not asked) say the value will never come. Probes found both, and I/R/P with an empty value,
stored valueless and unexplained, as if a value were still to come; F/C without a value are refused earlier."""
AWAITED = ("temp-unknown", "Temporarily Unknown")
"""Any other status with an empty value (I pending, R, P, S, O, or none): the value may come in a later message,
which then gives the same Observation a new version with it."""
LAB_CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory", "display": "Laboratory"}]}


def is_laboratory(observation: dict[str, Any]) -> bool:
    """True for a laboratory result (``LAB_CATEGORY`` among its categories), the only kind the bench validates."""
    lab = LAB_CATEGORY["coding"][0]
    return any(c.get("system") == lab["system"] and c.get("code") == lab["code"]
               for category in observation.get("category", ()) for c in category.get("coding", ()))


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
    return int(value) if value == value.to_integral_value() and "." not in text else exact_number(value)


def unit_problem(result: IncomingResult, analysis: AnalysisEntry) -> str:
    """Why the received unit cannot be taken as one of the analysis's units ('' when it can)."""
    if not analysis.numeric or not result.units or result.units in analysis.units \
            or result.units == analysis.unit_label:
        return ""
    return (f"unit {result.units!r} of {result.analyzer} test {result.test_code} is not a unit of "
            f"analysis {analysis.code} ({', '.join(sorted(analysis.units)) or 'none'})")


def value_problem(result: IncomingResult, analysis: AnalysisEntry) -> str:
    if not analysis.numeric or not result.value:
        return ""
    if result.kind not in ("", "quantity", "range", "ratio"):
        return (f"value {result.value!r} was sent as {result.value_type or result.kind}, "
                f"although analysis {analysis.code} is numeric")
    if _number(result.value) is None:
        return f"value {result.value!r} is not a number although analysis {analysis.code} is numeric"
    return ""


def _coding(system: str, code: str, display: str, analyzer: str) -> dict[str, Any]:
    if system.startswith("local:") or not system:
        local = system.removeprefix("local:")
        system = f"{INSTRUMENT_CODE_SYSTEM}/{quote(analyzer or UNNAMED, safe='')}" + (
            f"/{quote(local, safe='')}" if local else "")
    return {k: v for k, v in (("system", system), ("code", code), ("display", display)) if v}


def _quantity(text: str, result: IncomingResult, match: Match) -> dict[str, Any]:
    number = _number(text)
    quantity: dict[str, Any] = {"value": number}
    analysis = match.analysis
    if analysis is not None and match.problem is None:
        code = result.units if result.units in analysis.units else analysis.unit_code
        label = analysis.unit_label if code == analysis.unit_code else code
        quantity.update(unit=label, system=UCUM_SYSTEM, code=code)
    elif result.units:
        quantity["unit"] = result.units
    return quantity


def absent_reason(result: IncomingResult) -> dict[str, Any] | None:
    """The ``dataAbsentReason`` of a result sent without a value (None when it has one): nothing is stored
    without a value or the reason it has none."""
    if result.value or result.codings:
        return None
    status = result.instrument_status.strip().upper()
    if status in ABSENT_BY_STATUS:
        code, display, text = ABSENT_BY_STATUS[status]
    else:
        code, display = AWAITED
        text = f"the analyzer sent no value with status {status or '(none)'}: the result is not complete yet"
    return {"coding": [{"system": DATA_ABSENT_SYSTEM, "code": code, "display": display}], "text": text}


def _value(result: IncomingResult, match: Match) -> dict[str, Any]:
    """value[x] as the instrument typed it (HL7 OBX-2), or as the catalogue and the text say (ASTM)."""
    kind, analysis = result.kind, match.analysis
    absent = absent_reason(result)
    if absent is not None:
        return {"dataAbsentReason": absent}
    if kind == "coded":
        concept: dict[str, Any] = {"coding": [_coding(s, c, d, result.analyzer) for s, c, d in result.codings]}
        if result.value:
            concept["text"] = result.value
        return {"valueCodeableConcept": {k: v for k, v in concept.items() if v}}
    if kind == "time":
        return {"valueTime": result.value}
    if kind == "dateTime":
        return {"valueDateTime": result.value}
    if kind == "range" and _number(result.value) is not None and _number(result.high) is not None:
        return {"valueRange": {"low": _quantity(result.value, result, match),
                               "high": _quantity(result.high, result, match)}}
    if kind == "ratio" and _number(result.value) is not None and _number(result.high) is not None:
        return {"valueRatio": {"numerator": _quantity(result.value, result, match),
                               "denominator": {"value": _number(result.high)}}}
    numeric = kind == "quantity" or (kind == "" and (analysis is None or analysis.numeric))
    if not numeric or _number(result.value) is None:
        return {"valueString": result.value}
    quantity = _quantity(result.value, result, match)
    if result.comparator:
        quantity = {"value": quantity.pop("value"), "comparator": result.comparator, **quantity}
    return {"valueQuantity": quantity}


def _instrument_extension(result: IncomingResult) -> dict[str, Any]:
    parts: list[tuple[str, str, str]] = [
        ("analyzer", "valueString", result.analyzer), ("testCode", "valueString", result.test_code),
        ("value", "valueString", result.value), ("comparator", "valueString", result.comparator),
        ("unit", "valueString", result.units), ("referenceRange", "valueString", result.reference_range),
        *(("flag", "valueString", f) for f in result.flags), ("status", "valueString", result.instrument_status),
        ("runTime", "valueDateTime", result.run_at), ("source", "valueString", result.source),
        ("subId", "valueString", result.sub_id), ("valueType", "valueString", result.value_type),
        ("high", "valueString", result.high),
    ]
    return {"url": EXT_INSTRUMENT_RESULT, "extension": [{"url": u, kind: v} for u, kind, v in parts if v]}


def build_observation(result: IncomingResult, match: Match, *, issued: str) -> dict[str, Any]:
    # an analyzer that sends no name or no test code still gets its result kept (and on the worklist)
    instrument = _coding(result.test_system, result.test_code, result.test_name, result.analyzer)
    if match.analysis is not None:
        known = {(c.get("system"), c.get("code")) for c in match.analysis.codings}
        extra = [] if (instrument.get("system"), instrument.get("code")) in known else [instrument]
        code = {"coding": [*match.analysis.codings, *extra], "text": match.analysis.label}
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
    if result.comments:
        obs["note"] = [{"authorString": result.analyzer or UNNAMED, "text": text} for text in result.comments]
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
    for name in ("basedOn", "encounter"):
        if name in awaiting:
            out[name] = awaiting[name]
    notes = [*awaiting.get("note", ()), *observation.get("note", ())]  # the rerun's reason, then the instrument's
    if notes:
        out["note"] = notes
    return out


def _worklist_task(key: str, reason: str, detail: str, description: str, authored: str,
                   inputs: list[tuple[str, str]], patient: str | None) -> dict[str, Any]:
    task: dict[str, Any] = {
        "resourceType": "Task",
        "identifier": [{"system": RESULT_ID_SYSTEM, "value": key}],
        "status": "requested",
        "intent": "order",
        "priority": "routine",
        "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": UNMATCHED_TASK,
                             "display": "Résultat d'automate non rattaché"}]},
        "statusReason": {"coding": [{"system": UNMATCHED_REASON_SYSTEM, "code": reason}], "text": detail},
        "description": description,
        "authoredOn": authored,
        "input": [{"type": {"text": name}, "valueString": value} for name, value in inputs if value],
    }
    if patient:
        task["for"] = {"reference": patient}
    return task


def patient_inputs(hint: PatientHint | None) -> list[tuple[str, str]]:
    if hint is None:
        return []
    return [*(("patient-identifier", i) for i in hint.identifiers), ("patient-name", hint.name)]


def build_refused_task(refused: RefusedIncoming, *, authored: str, patient: str | None) -> dict[str, Any]:
    """The worklist entry for a result that could not be read as sent (no Observation: its value is
    not what its type says); ``input`` keeps the record as received so a person can key it in."""
    return _worklist_task(refused.key, "invalid-result", refused.reason, f"{refused.source}: {refused.reason}",
                          authored, [("accession", refused.specimen_id), ("analyzer", refused.analyzer),
                                     ("test-code", refused.test_code), ("sub-id", refused.sub_id),
                                     ("received", refused.raw), *patient_inputs(refused.patient)], patient)


def build_task(result: IncomingResult, match: Match, observation_id: str, *, authored: str,
               patient: str | None = None) -> dict[str, Any]:
    """The worklist entry for an unmatched result: a person attaches it or rejects it. ``patient``
    is the specimen's patient, else the one the message's PID/P record names (when it is known)."""
    assert match.problem is not None
    if match.specimen is not None and match.specimen.get("subject"):
        patient = match.specimen["subject"]["reference"]
    task = _worklist_task(result.key, match.problem, match.detail, f"{result.source}: {match.detail}", authored,
                          [("accession", result.specimen_id), ("analyzer", result.analyzer),
                           ("test-code", result.test_code), ("sub-id", result.sub_id),
                           *patient_inputs(result.patient)], patient)
    task["focus"] = {"reference": f"Observation/{observation_id}"}
    return task


VALIDATION_STEP_SYSTEM = f"{BASE}/CodeSystem/validation-step"
"""The tag system the validation workflow marks its steps with (``server/validation/marks.py``)."""
EDITABLE_STATES = frozenset({"registered", "preliminary"})


def editable(observation: dict[str, Any]) -> bool:
    """Whether an instrument's correction may replace the value in place: nobody validated it yet."""
    tags = (observation.get("meta") or {}).get("tag", ())
    return observation.get("status") in EDITABLE_STATES and not any(
        t.get("system") == VALIDATION_STEP_SYSTEM for t in tags)


def with_correction(observation: dict[str, Any], result: IncomingResult, version: int) -> dict[str, Any]:
    """The Observation of a corrected result: the instrument extension says it is a correction, and
    why (the instrument flagged it OBX-11 = C, or the same measurement came with another value)."""
    why = "instrument correction (status C)" if result.instrument_status == "C" else "another value for the same run"
    extensions = []
    for ext in observation["extension"]:
        if ext.get("url") == EXT_INSTRUMENT_RESULT:
            ext = {**ext, "extension": [*ext["extension"], {"url": "correction", "valueString": why},
                                        {"url": "reception", "valueInteger": version}]}
        extensions.append(ext)
    return {**observation, "extension": extensions}
