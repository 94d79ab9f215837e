"""LOINC_4bis-6bis as a FHIR ConceptMap (terminology/loinc_files/fhir_import.py): SGL.LOI.10."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from resources.errors import InvalidInput
from terminology.catalog.changes import apply_changes
from terminology.catalog.fhir import concept_map
from terminology.catalog.model import Catalog, Target
from terminology.loinc_files.fhir_import import parse_concept_map_import
from terminology.loinc_files.report import Finding

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _map_with(catalog: Catalog, code: str, targets: list[dict[str, Any]]) -> tuple[dict[str, Any], int]:
    cm = copy.deepcopy(concept_map(catalog))
    elements = cm["group"][0]["element"]
    index = next(i for i, e in enumerate(elements) if e["code"] == code)
    elements[index]["target"] = targets
    return cm, index


@pytest.mark.req("SGL.LOI.10")
def test_our_own_concept_map_reimports_as_no_change_SGL_LOI_10(catalog: Catalog, circuit: frozenset[str]) -> None:
    result = parse_concept_map_import(concept_map(catalog), catalog, circuit)
    assert result.changes == () and result.report.blocking == []
    assert result.report.data_lines == len(concept_map(catalog)["group"][0]["element"])


@pytest.mark.req("SGL.LOI.10")
def test_provider_concept_map_assigns_codes_with_dates_SGL_LOI_10(catalog: Catalog,
                                                                  circuit: frozenset[str]) -> None:
    cm, index = _map_with(catalog, "NA", [{"code": "2947-0", "display": "Sodium sang", "equivalence": "equivalent"}])
    cm["group"][0]["element"].append({"code": "IONO", "target": [{"code": "24326-1", "equivalence": "equivalent"}]})
    result = parse_concept_map_import(cm, catalog, circuit)
    assert [(c.target, c.local_code, c.loinc_code) for c in result.changes] == [
        (Target.ANALYSIS, "NA", "2947-0"), (Target.EXAM, "IONO", "24326-1")]
    assert result.changes[0].source == f"ConceptMap/catalogue-loinc#ConceptMap.group[0].element[{index}]"
    outside = {e.line for e in result.report.warnings if e.finding is Finding.OUTSIDE_CIRCUIT}
    assert len(outside) == 2  # neither code is in the shipped circuit stand-in: warned, still applied
    after = apply_changes(catalog, result.changes, NOW)
    assert after.analysis("NA").loinc.modified == NOW  # type: ignore[union-attr]


@pytest.mark.req("SGL.LOI.10")
@pytest.mark.parametrize(("code", "targets", "finding"), [
    ("GLU", [{"code": "2345-7", "equivalence": "equivalent"}, {"code": "2339-0", "equivalence": "wider"}],
     Finding.MULTIPLE_LOINC),
    ("GLU", [{"code": "2345-8", "equivalence": "equivalent"}], Finding.CHECK_DIGIT),
])
def test_bad_element_is_blocking_at_its_fhirpath_SGL_LOI_10(catalog: Catalog, circuit: frozenset[str], code: str,
                                                            targets: list[dict[str, Any]], finding: Finding) -> None:
    cm, index = _map_with(catalog, code, targets)
    result = parse_concept_map_import(cm, catalog, circuit)
    assert [e.finding for e in result.report.blocking] == [finding]
    outcome = result.report.to_operation_outcome()
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["expression"] == [f"ConceptMap.group[0].element[{index}]"]
    assert result.changes == ()


def test_unknown_local_code_and_unrelated_targets(catalog: Catalog, circuit: frozenset[str]) -> None:
    cm = copy.deepcopy(concept_map(catalog))
    cm["group"][0]["element"] += [{"code": "ZZZ", "target": [{"code": "2345-7", "equivalence": "equivalent"}]},
                                  {"code": "K", "target": [{"code": "2951-2", "equivalence": "unmatched"}]}]
    result = parse_concept_map_import(cm, catalog, circuit)
    assert [e.finding for e in result.report.blocking] == [Finding.UNKNOWN_LOCAL_CODE]
    assert result.report.warnings[-1].finding is Finding.NO_LOINC  # an "unmatched" target maps to nothing


def test_a_concept_map_without_a_catalogue_group_is_refused(catalog: Catalog, circuit: frozenset[str]) -> None:
    cm = copy.deepcopy(concept_map(catalog))
    cm["group"][0]["source"] = "http://example.org/other"
    with pytest.raises(InvalidInput):
        parse_concept_map_import(cm, catalog, circuit)
    with pytest.raises(InvalidInput):
        parse_concept_map_import({"resourceType": "ValueSet"}, catalog, circuit)
