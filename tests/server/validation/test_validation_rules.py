"""The rules file: shipped defaults load; a bad file is refused naming the faulty entry."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from server.validation.errors import InvalidRulesFile
from server.validation.rules import DEFAULT_RULES, load_rules, parse_rules


def test_shipped_defaults_cover_the_usual_delta_checks() -> None:
    rules = load_rules(None)
    assert {"CREA", "K", "HB", "PLQ"} <= set(rules.delta)
    assert rules.delta["CREA"].absolute == Decimal("50") and rules.delta["PLQ"].relative == Decimal("0.5")
    assert "NA" in rules.autoverifiable and rules.source == DEFAULT_RULES.name


@pytest.mark.parametrize(("data", "where"), [
    ({"delta_checks": {"K": {}}}, "$.delta_checks.K"),
    ({"delta_checks": {"K": {"absolute": "beaucoup"}}}, "$.delta_checks.K.absolute"),
    ({"delta_checks": {"K": {"absolute": 1, "percent": 3}}}, "$.delta_checks.K"),
    ({"coded_results": {"abnormal": ["10828004"]}}, "$.coded_results.abnormal"),
    ({"autoverification": {"analyses": "NA"}}, "$.autoverification.analyses"),
    ({"autoverification": {"age_min": -1}}, "$.autoverification.age_min"),
    ([], "$"),
])
def test_bad_rules_name_the_faulty_entry(data: Any, where: str) -> None:
    with pytest.raises(InvalidRulesFile) as caught:
        parse_rules(data, "test.json")
    assert caught.value.expression == [where] and caught.value.status == 503


def test_rules_file_is_reread_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"delta_checks": {"K": {"absolute": 1}}}), encoding="utf-8")
    assert load_rules(path).delta["K"].absolute == 1
    path.write_text(json.dumps({"delta_checks": {"K": {"absolute": 2, "days": 7}}}), encoding="utf-8")
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))
    assert load_rules(path).delta["K"].absolute == 2


def test_missing_or_malformed_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRulesFile):
        load_rules(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{\n  \"delta_checks\": ", encoding="utf-8")
    with pytest.raises(InvalidRulesFile) as caught:
        load_rules(broken)
    assert caught.value.expression == [f"{broken}:2"]
