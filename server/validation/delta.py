"""Delta check: compare a numeric result with the patient's previous final result of the analysis.

The previous result is the latest ``final`` / ``corrected`` / ``amended`` Observation of the same
patient and code collected before this one (search by patient + code, sorted by date), within the
analysis' ``days`` window. When the change exceeds the ``absolute`` threshold or the ``relative``
one (fraction of the previous value), the result gets the v3 interpretation ``U`` (significant
change up) or ``D`` (down) and a note naming the previous value and date; the note carries the
``delta-check`` extension pointing at the previous Observation, so a recomputation replaces it.
Analyses without thresholds in the rules file are not checked.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from resources import interactions
from resources.store.base import FhirStore
from server.validation.definitions import ResultContext
from server.validation.marks import EXT_DELTA_CHECK, interpretation, replace_interpretations
from server.validation.rules import DeltaThreshold, ValidationRules
from terminology import CATALOG_SYSTEM, LOINC_SYSTEM

DELTA_CODES = frozenset({"U", "D"})
_PREVIOUS = 20


def _code_token(observation: dict[str, Any]) -> str | None:
    codings = (observation.get("code") or {}).get("coding", ())
    for system in (CATALOG_SYSTEM, LOINC_SYSTEM):
        code = next((c["code"] for c in codings if c.get("system") == system and c.get("code")), None)
        if code:
            return f"{system}|{code}"
    return None


async def previous_result(store: FhirStore, observation: dict[str, Any]) -> dict[str, Any] | None:
    """The patient's latest final result of the same analysis collected before this one."""
    token, subject = _code_token(observation), (observation.get("subject") or {}).get("reference")
    if not token or not subject:
        return None
    query = [("patient", subject), ("code", token), ("status", "final,corrected,amended"), ("_sort", "-date"),
             ("_count", str(_PREVIOUS))]
    when = observation.get("effectiveDateTime")
    if when:
        query.append(("date", f"lt{when}"))
    bundle = await interactions.search(store, "Observation", query, base="")
    for entry in bundle.get("entry", ()):
        found = entry["resource"]
        if entry["search"]["mode"] == "match" and found["id"] != observation.get("id") \
                and (found.get("valueQuantity") or {}).get("value") is not None:
            return dict(found)
    return None


def _exceeded(value: Decimal, previous: Decimal, threshold: DeltaThreshold) -> bool:
    change = abs(value - previous)
    if threshold.absolute is not None and change > threshold.absolute:
        return True
    return threshold.relative is not None and previous != 0 and change / abs(previous) > threshold.relative


def _too_old(observation: dict[str, Any], previous: dict[str, Any], threshold: DeltaThreshold) -> bool:
    now, then = observation.get("effectiveDateTime"), previous.get("effectiveDateTime")
    if threshold.days is None or not now or not then:
        return False
    return (date.fromisoformat(now[:10]) - date.fromisoformat(then[:10])).days > threshold.days


def _note(value: Decimal, previous: dict[str, Any], unit: str) -> dict[str, Any]:
    before = Decimal(str(previous["valueQuantity"]["value"]))
    when = (previous.get("effectiveDateTime") or "")[:10] or "date inconnue"
    text = (f"Delta check : {value - before:+} {unit} par rapport au résultat précédent "
            f"({before} {unit} le {when}).").replace("  ", " ")
    return {"extension": [{"url": EXT_DELTA_CHECK, "valueReference": {"reference": f"Observation/{previous['id']}"}}],
            "text": text}


def apply_delta(observation: dict[str, Any], previous: dict[str, Any] | None, ctx: ResultContext,
                rules: ValidationRules) -> dict[str, Any]:
    """The observation with its delta-check interpretation and note recomputed (removed when not exceeded)."""
    notes = [n for n in observation.get("note", ())
             if not any(e.get("url") == EXT_DELTA_CHECK for e in n.get("extension", ()))]
    out = replace_interpretations(observation, DELTA_CODES, [])
    out.pop("note", None)
    threshold = rules.delta.get(ctx.analysis_code)
    quantity = observation.get("valueQuantity") or {}
    if threshold and previous and quantity.get("value") is not None and not _too_old(observation, previous, threshold):
        value, before = Decimal(str(quantity["value"])), Decimal(str(previous["valueQuantity"]["value"]))
        if _exceeded(value, before, threshold):
            code = "U" if value > before else "D"
            out = replace_interpretations(out, DELTA_CODES, [interpretation(
                code, "Significant change up" if code == "U" else "Significant change down")])
            notes.append(_note(value, previous, quantity.get("unit") or quantity.get("code") or ""))
    if notes:
        out["note"] = notes
    return out


def delta_flagged(observation: dict[str, Any]) -> bool:
    return any(e.get("url") == EXT_DELTA_CHECK for n in observation.get("note", ()) for e in n.get("extension", ()))
