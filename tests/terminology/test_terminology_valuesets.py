"""Value set loaders (terminology/valuesets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resources.errors import InvalidInput
from terminology.valuesets import load_circuit_value_set, load_value_set_codes


def test_an_official_release_can_replace_the_stand_in(tmp_path: Path) -> None:
    release = {"resourceType": "ValueSet", "expansion": {"contains": [
        {"system": "http://loinc.org", "code": "2345-7"}, {"system": "http://snomed.info/sct", "code": "1"}]}}
    path = tmp_path / "circuit.json"
    path.write_text(json.dumps(release), encoding="utf-8")
    assert load_value_set_codes(path) == {"2345-7"}


@pytest.mark.parametrize(("content", "words"), [
    ("{not json", "cannot read"),
    (json.dumps({"resourceType": "CodeSystem"}), "not a FHIR ValueSet"),
    (json.dumps({"resourceType": "ValueSet", "compose": {"include": []}}), "no LOINC code"),
])
def test_unusable_value_set_file_is_refused(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "vs.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_value_set_codes(path)
    assert words in err.value.diagnostics and err.value.expression[0].startswith("vs.json")


def test_stand_in_is_not_empty() -> None:
    assert len(load_circuit_value_set()) > 100
