"""The lab's validation rules, from a JSON file (``SGL_VALIDATION_RULES``; default: rules.json here).

Three sections, each keyed by the catalogue's local analysis code:

- ``coded_results``: ``system|code`` answers interpreted as abnormal (``A``) or normal (``N``);
- ``delta_checks``: per analysis, ``absolute`` and/or ``relative`` (a fraction of the previous
  value) thresholds and the ``days`` beyond which a previous result is too old to compare;
- ``autoverification``: the analyses eligible and the patient age range (years, inclusive).

A bad file is refused with the JSON path of the faulty entry, so a typo never silently turns a
check off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from server.validation.errors import InvalidRulesFile

DEFAULT_RULES = Path(__file__).with_name("rules.json")


@dataclass(frozen=True)
class DeltaThreshold:
    absolute: Decimal | None
    relative: Decimal | None
    days: int | None


@dataclass(frozen=True)
class ValidationRules:
    abnormal_answers: frozenset[str]
    normal_answers: frozenset[str]
    delta: dict[str, DeltaThreshold]
    autoverifiable: frozenset[str]
    age_min: Decimal | None
    age_max: Decimal | None
    source: str


def _number(raw: Any, where: str) -> Decimal | None:
    if raw is None:
        return None
    try:
        if isinstance(raw, bool):
            raise InvalidOperation
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise InvalidRulesFile(f"{raw!r} is not a number", expression=where) from exc
    if value < 0:
        raise InvalidRulesFile(f"{raw} must not be negative", expression=where)
    return value


def _object(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidRulesFile("expected a JSON object", expression=where)
    return raw


def _codes(raw: Any, where: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(c, str) and "|" in c for c in raw):
        raise InvalidRulesFile("expected a list of 'system|code' strings", expression=where)
    return frozenset(raw)


def _threshold(raw: Any, where: str) -> DeltaThreshold:
    entry = _object(raw, where)
    unknown = set(entry) - {"absolute", "relative", "days"}
    if unknown:
        raise InvalidRulesFile(f"unknown key(s) {sorted(unknown)}", expression=where)
    threshold = DeltaThreshold(_number(entry.get("absolute"), f"{where}.absolute"),
                               _number(entry.get("relative"), f"{where}.relative"),
                               None if entry.get("days") is None else int(_number(entry["days"], f"{where}.days") or 0))
    if threshold.absolute is None and threshold.relative is None:
        raise InvalidRulesFile("a delta check needs an absolute or a relative threshold", expression=where)
    return threshold


def parse_rules(data: Any, source: str) -> ValidationRules:
    root = _object(data, "$")
    coded = _object(root.get("coded_results", {}), "$.coded_results")
    delta = _object(root.get("delta_checks", {}), "$.delta_checks")
    auto = _object(root.get("autoverification", {}), "$.autoverification")
    analyses = auto.get("analyses", [])
    if not isinstance(analyses, list) or not all(isinstance(a, str) for a in analyses):
        raise InvalidRulesFile("expected a list of local analysis codes", expression="$.autoverification.analyses")
    return ValidationRules(
        abnormal_answers=_codes(coded.get("abnormal", []), "$.coded_results.abnormal"),
        normal_answers=_codes(coded.get("normal", []), "$.coded_results.normal"),
        delta={code: _threshold(entry, f"$.delta_checks.{code}") for code, entry in delta.items()},
        autoverifiable=frozenset(analyses),
        age_min=_number(auto.get("age_min"), "$.autoverification.age_min"),
        age_max=_number(auto.get("age_max"), "$.autoverification.age_max"),
        source=source,
    )


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> ValidationRules:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidRulesFile(f"{path}: malformed JSON: {exc}", expression=f"{path}:{exc.lineno}") from exc
    return parse_rules(data, path.name)


def load_rules(path: Path | None) -> ValidationRules:
    """The rules of ``path`` (or the shipped defaults), re-read when the file changes."""
    path = path or DEFAULT_RULES
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise InvalidRulesFile(f"validation rules file {path} cannot be read: {exc}", expression=str(path)) from exc
    return _load(path, mtime)
