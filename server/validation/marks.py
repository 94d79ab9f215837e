"""What the validation workflow writes on results and reports, so that readers can tell the state.

A document writer (CR-Bio CDA, PDF/A-1) needs no knowledge of the workflow beyond this module:

- ``meta.tag`` with system ``STEP_SYSTEM`` records the validation steps a resource went through:
  ``technical`` (technician), ``biological`` (a biologist validated or reviewed it) and
  ``autoverified`` (validated by the autoverification rules **with no later biologist review**).
  The ``autoverified`` tag is removed when a biologist reviews the result, so SGL.DOC.09 reads:
  *a result line is "validated automatically" iff its Observation carries the tag; the report
  prints the configurable notice iff its DiagnosticReport carries it* (the report carries it as
  long as one of its results does).
- ``interpretation`` codings of the HL7 v3 ObservationInterpretation system: H/L/N/HH/LL/A from
  the flags step, U/D (significant change up/down) from the delta check.
- Every step also writes a ``Provenance`` (see provenance.py) naming who acted and when.
"""

from __future__ import annotations

from typing import Any

from resources.codes import RESULT_FINAL

BASE = "https://opensgl.org/fhir"
STEP_SYSTEM = f"{BASE}/CodeSystem/validation-step"
TECHNICAL, BIOLOGICAL, AUTOVERIFIED = "technical", "biological", "autoverified"
_STEP_DISPLAY = {
    TECHNICAL: "Validé techniquement",
    BIOLOGICAL: "Validé biologiquement",
    AUTOVERIFIED: "Validé automatiquement, sans revue du biologiste",
}
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
EXT_DELTA_CHECK = f"{BASE}/StructureDefinition/delta-check"
EXT_NOTE_AUDIENCE = f"{BASE}/StructureDefinition/note-audience"
"""On an ``Observation.note``: ``valueCode`` ``professional`` = a comment for health professionals only, left out of
the patient version of the CR-Bio when the lab makes two (SGL.DOC.02, server/documents/audience.py)."""
NOTE_AUDIENCES = frozenset({"professional"})
EXT_REPLACES = f"{BASE}/StructureDefinition/replaces"
EXT_REPLACED_BY = f"{BASE}/StructureDefinition/replaced-by"
EXT_INSTRUMENT_RESULT = f"{BASE}/StructureDefinition/instrument-result"
"""What the analyzer sent, as received (written by server/analyzers); its ``flag`` parts are the instrument flags."""
CLEAR_INSTRUMENT_FLAGS = frozenset({"", "N"})

FINAL_STATES = RESULT_FINAL  # resources/codes.py: the one definition
"""Observation / DiagnosticReport statuses after biological validation."""


def has_step(resource: dict[str, Any], step: str) -> bool:
    return any(t.get("system") == STEP_SYSTEM and t.get("code") == step
               for t in (resource.get("meta") or {}).get("tag", ()))


def is_autoverified(resource: dict[str, Any]) -> bool:
    """True when validated by the rules with no later biologist review (SGL.DOC.09)."""
    return has_step(resource, AUTOVERIFIED)


def with_step(resource: dict[str, Any], step: str, present: bool = True) -> dict[str, Any]:
    """A copy of the resource with the step tag added (or removed); other tags are kept."""
    meta = dict(resource.get("meta") or {})
    tags = [t for t in meta.get("tag", ()) if not (t.get("system") == STEP_SYSTEM and t.get("code") == step)]
    if present:
        tags.append({"system": STEP_SYSTEM, "code": step, "display": _STEP_DISPLAY[step]})
    if tags:
        meta["tag"] = tags
    else:
        meta.pop("tag", None)
    out = {**resource, "meta": meta}
    if not meta:
        out.pop("meta")
    return out


def interpretation(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": INTERPRETATION_SYSTEM, "code": code, "display": display}], "text": display}


def replace_interpretations(observation: dict[str, Any], owned: frozenset[str],
                            added: list[dict[str, Any]]) -> dict[str, Any]:
    """Drop the interpretations whose v3 code a step owns, then add that step's new ones.

    Each step owns its codes (flags: H/L/N/HH/LL/A, delta check: U/D), so recomputing one step
    keeps the other's result and any instrument flag from another code system.
    """
    def owned_by_step(concept: dict[str, Any]) -> bool:
        return any(c.get("system") == INTERPRETATION_SYSTEM and c.get("code") in owned
                   for c in concept.get("coding", ()))

    kept = [c for c in observation.get("interpretation", ()) if not owned_by_step(c)]
    out = {**observation, "interpretation": kept + added}
    if not out["interpretation"]:
        out.pop("interpretation")
    return out


def interpretation_codes(observation: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c.get("system", ""), c.get("code", "")) for concept in observation.get("interpretation", ())
            for c in concept.get("coding", ())}


def instrument_flags(observation: dict[str, Any]) -> list[str]:
    """The flags the analyzer raised on this result (``N`` and empty mean none)."""
    return [str(part.get("valueString", "")) for ext in observation.get("extension", ())
            if ext.get("url") == EXT_INSTRUMENT_RESULT for part in ext.get("extension", ())
            if part.get("url") == "flag" and str(part.get("valueString", "")) not in CLEAR_INSTRUMENT_FLAGS]


def has_value(observation: dict[str, Any]) -> bool:
    quantity = observation.get("valueQuantity")
    if quantity is not None:
        return quantity.get("value") is not None
    return any(k.startswith("value") and observation[k] not in (None, "", {}) for k in observation)
