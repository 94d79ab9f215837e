"""Flags: the reference range for the patient's sex and age, and H / L / N / HH / LL / A.

Pure logic on the ``ObservationDefinition`` the catalogue stores (``qualifiedInterval``): the first
``reference`` interval matching the patient's sex (or for both sexes) and age at collection fills
``Observation.referenceRange``; ``critical`` intervals (values at or beyond the limit) give HH / LL,
which win over H / L. A coded result is ``A`` when its answer is listed as abnormal in the rules,
``N`` when listed as normal. Run again whenever the value changes (technical validation and
correction do), so the flags always describe the stored value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from resources.errors import RuleViolation
from server.validation.definitions import ResultContext
from server.validation.marks import INTERPRETATION_SYSTEM, interpretation, replace_interpretations
from server.validation.rules import ValidationRules

FLAG_CODES = frozenset({"H", "L", "N", "HH", "LL", "A"})
_DISPLAY = {"H": "High", "L": "Low", "N": "Normal", "HH": "Critical high", "LL": "Critical low", "A": "Abnormal"}
_RANGE_MEANING = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/referencerange-meaning",
                              "code": "normal", "display": "Normal Range"}]}


def _bound(quantity: dict[str, Any] | None) -> Decimal | None:
    if not quantity or quantity.get("value") is None:
        return None
    return Decimal(str(quantity["value"]))


def _applies(interval: dict[str, Any], ctx: ResultContext) -> bool:
    gender = interval.get("gender")
    if gender and gender != ctx.sex:
        return False
    age = interval.get("age")
    if not age:
        return True
    if ctx.age is None:
        return False
    low, high = _bound(age.get("low")), _bound(age.get("high"))
    return (low is None or ctx.age >= low) and (high is None or ctx.age <= high)


def reference_interval(ctx: ResultContext) -> dict[str, Any] | None:
    """The definition's first reference interval for this patient, or None."""
    return next((i for i in ctx.definition.get("qualifiedInterval", ())
                 if i.get("category") == "reference" and _applies(i, ctx)), None)


def _critical(ctx: ResultContext, value: Decimal) -> str | None:
    for interval in ctx.definition.get("qualifiedInterval", ()):
        if interval.get("category") != "critical" or not _applies(interval, ctx):
            continue
        rng = interval.get("range") or {}
        low, high = _bound(rng.get("low")), _bound(rng.get("high"))
        if high is not None and low is None and value <= high:
            return "LL"
        if low is not None and high is None and value >= low:
            return "HH"
    return None


def _check_unit(observation: dict[str, Any], ctx: ResultContext) -> None:
    unit = ((ctx.definition.get("quantitativeDetails") or {}).get("unit") or {}).get("coding") or [{}]
    expected, given = unit[0].get("code"), (observation.get("valueQuantity") or {}).get("code")
    if expected and given and given != expected:
        raise RuleViolation("VAL-05", f"the result is in {given!r}, the catalogue's unit is {expected!r}: "
                            "convert it before validation", expression="Observation.valueQuantity.code")


def _numeric_flag(observation: dict[str, Any], ctx: ResultContext) -> tuple[str | None, dict[str, Any] | None]:
    _check_unit(observation, ctx)
    value = _bound(observation.get("valueQuantity"))
    if value is None:
        return None, None
    interval = reference_interval(ctx)
    critical = _critical(ctx, value)
    if interval is None:
        return critical, None
    rng = interval.get("range") or {}
    low, high = _bound(rng.get("low")), _bound(rng.get("high"))
    flag = "L" if low is not None and value < low else "H" if high is not None and value > high else "N"
    reference = {**rng, "type": _RANGE_MEANING}
    if interval.get("age"):
        reference["age"] = interval["age"]
    return critical or flag, reference


def _coded_flag(observation: dict[str, Any], rules: ValidationRules) -> str | None:
    answers = {f"{c.get('system')}|{c.get('code')}" for c in observation["valueCodeableConcept"].get("coding", ())}
    if answers & rules.abnormal_answers:
        return "A"
    return "N" if answers & rules.normal_answers else None


def apply_flags(observation: dict[str, Any], ctx: ResultContext, rules: ValidationRules) -> dict[str, Any]:
    """The observation with its reference range and flag recomputed from its current value."""
    if "valueCodeableConcept" in observation:
        flag, reference = _coded_flag(observation, rules), None
    else:
        flag, reference = _numeric_flag(observation, ctx)
    out = replace_interpretations(observation, FLAG_CODES, [interpretation(flag, _DISPLAY[flag])] if flag else [])
    out.pop("referenceRange", None)
    if reference is not None:
        out["referenceRange"] = [reference]
    return out


def flag_of(observation: dict[str, Any]) -> str | None:
    """The flags step's code on an observation (None when it has none)."""
    return next((c["code"] for concept in observation.get("interpretation", ()) for c in concept.get("coding", ())
                 if c.get("system") == INTERPRETATION_SYSTEM and c.get("code") in FLAG_CODES), None)
