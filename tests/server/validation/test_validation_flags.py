"""Flags from the catalogue's reference intervals (by sex and age) and critical limits, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from server.validation.definitions import ResultContext
from server.validation.flags import apply_flags
from server.validation.rules import load_rules
from tests.support.validation_lab import SNOMED, Lab, codes, issue

pytestmark = pytest.mark.db


@pytest.mark.parametrize(("gender", "birth", "code", "value", "flag", "low", "high"), [
    ("male", "1980-01-01", "CREA", 120, "H", 62, 106),
    ("female", "1980-01-01", "CREA", 100, "H", 44, 80),
    ("male", "1980-01-01", "CREA", 70, "N", 62, 106),
    ("female", "1980-01-01", "CREA", 70, "N", 44, 80),
    ("male", "1980-01-01", "CREA", 50, "L", 62, 106),
    ("male", "1980-01-01", "CREA", 800, "HH", 62, 106),
    ("male", "1980-01-01", "K", 2.5, "LL", 3.5, 5.1),
    ("male", "1980-01-01", "K", 6.2, "HH", 3.5, 5.1),
    ("male", "1990-06-01", "VS", 18, "H", None, 15),
    ("male", "1950-06-01", "VS", 18, "N", None, 20),
    ("female", "1950-06-01", "VS", 25, "N", None, 30),
])
async def test_numeric_result_is_flagged_from_its_range_for_sex_and_age(
        lab: Lab, gender: str, birth: str, code: str, value: float, flag: str, low: float | None,
        high: float | None) -> None:
    patient = await lab.patient(gender, birth)
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, code, value)
    answer = await lab.validate(rid)
    assert answer.status_code == 200, answer.text
    stored = await lab.read("Observation", rid)
    assert codes(stored) == {flag}
    [rng] = stored["referenceRange"]
    assert (rng.get("low") or {}).get("value") == low and (rng.get("high") or {}).get("value") == high


async def test_coded_positive_answer_is_abnormal(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    positive = await lab.result(patient, order, "HBSAG", {"coding": [{"system": SNOMED, "code": "10828004"}]})
    negative = await lab.result(patient, order, "HCV", {"coding": [{"system": SNOMED, "code": "260385009"}]})
    for rid in (positive, negative):
        assert (await lab.validate(rid)).status_code == 200
    assert codes(await lab.read("Observation", positive)) == {"A"}
    assert codes(await lab.read("Observation", negative)) == {"N"}


async def test_result_in_another_unit_is_refused_and_left_untouched(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "CREA", 10.5, unit="mg/L")
    before = await lab.read("Observation", rid)
    answer = await lab.validate(rid)
    assert answer.status_code == 422
    assert "VAL-05" in issue(answer)["diagnostics"]
    assert issue(answer)["expression"] == ["Observation.valueQuantity.code"]
    assert (await lab.read("Observation", rid))["meta"]["versionId"] == before["meta"]["versionId"]


def _definition() -> dict[str, Any]:
    return {"qualifiedInterval": [
        {"category": "reference", "gender": "male", "range": {"low": {"value": 62}, "high": {"value": 106}}},
        {"category": "reference", "gender": "female", "range": {"low": {"value": 44}, "high": {"value": 80}}},
        {"category": "critical", "range": {"low": {"value": 700}}}]}


def test_flags_are_recomputed_when_the_value_changes() -> None:
    rules = load_rules(None)
    ctx = ResultContext(_definition(), "CREA", "male", None)
    high = apply_flags({"valueQuantity": {"value": 150}}, ctx, rules)
    back = apply_flags({**high, "valueQuantity": {"value": 80}}, ctx, rules)
    assert codes(high) == {"H"} and codes(back) == {"N"}


def test_unknown_sex_gets_no_sex_specific_range_but_critical_flags_still_apply() -> None:
    ctx = ResultContext(_definition(), "CREA", None, None)
    assert codes(apply_flags({"valueQuantity": {"value": 90}}, ctx, load_rules(None))) == set()
    assert codes(apply_flags({"valueQuantity": {"value": 900}}, ctx, load_rules(None))) == {"HH"}
