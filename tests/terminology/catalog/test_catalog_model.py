"""Catalogue rules (terminology/catalog/model.py) and its JSON form (jsonio.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from terminology.catalog.jsonio import catalog_from_dict, catalog_to_dict
from terminology.catalog.model import Analysis, Catalog, Exam, Target
from terminology.errors import InvalidCatalog, UnknownCatalogCode


def _analysis(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(a for a in data["analyses"] if a["code"] == code)


def test_json_form_round_trips_the_seed(catalog: Catalog) -> None:
    again = catalog_from_dict(json.loads(json.dumps(catalog_to_dict(catalog))))
    assert again == catalog
    assert str(again.analysis("GLU").reference_intervals[0].low) == "0.70"  # decimals keep their zeros


def test_lookups_by_kind_and_unknown_code(catalog: Catalog) -> None:
    assert isinstance(catalog.get(Target.ANALYSIS, "NA"), Analysis)
    assert isinstance(catalog.get(Target.EXAM, "IONO"), Exam)
    assert catalog.find(Target.EXAM, "NA") is None
    assert catalog.chapter_of("HEMAT-NFS").code == "HEMAT"
    with pytest.raises(UnknownCatalogCode) as err:
        catalog.analysis("NOPE")
    assert err.value.expression == ["analysis:NOPE"]


@pytest.mark.parametrize(("mutate", "expression", "words"), [
    (lambda d: d["exams"][0].update(code="GLU"), "exam:GLU", "used twice"),
    (lambda d: _analysis(d, "NA").update(code="N A"), "analysis:N A", "ASCII letters"),
    (lambda d: _analysis(d, "NA").update(chapter="NOPE"), "analysis:NA.chapter", "not defined"),
    (lambda d: _analysis(d, "NA").update(subchapter="HEMAT-NFS"), "analysis:NA.subchapter", "not a sub-chapter"),
    (lambda d: _analysis(d, "NA").update(specimen="XX"), "analysis:NA.specimen", "not defined"),
    (lambda d: _analysis(d, "NA")["loinc"].update(code="2951-3"), "analysis:NA.loinc", "check digit"),
    (lambda d: _analysis(d, "NA")["unit"].update(code="mmol\\L"), "analysis:NA.units[0]", "not UCUM"),
    (lambda d: _analysis(d, "GLU")["alt_units"][0].update(code="UI/L"), "analysis:GLU.units[1]", "not UCUM"),
    (lambda d: _analysis(d, "NA").update(unit=None), "analysis:NA.unit", "main unit"),
    (lambda d: _analysis(d, "NA")["reference_intervals"][0].update(low="150"), "analysis:NA.reference_intervals[0]",
     "above"),
    (lambda d: _analysis(d, "NA").update(critical_low="170"), "analysis:NA", "critical"),
    (lambda d: _analysis(d, "NA")["instrument_codes"][0].update(analyzer="ZZ"), "analysis:NA.instrument_codes",
     "not defined"),
    (lambda d: d["exams"][0].update(analyses=["NOPE"]), "exam:GLY.analyses", "not defined"),
    (lambda d: d["exams"][0].update(analyses=[]), "exam:GLY.analyses", "at least one"),
    (lambda d: d["exams"][0].update(container="ZZ"), "exam:GLY.container", "not defined"),
    (lambda d: _analysis(d, "NA")["reference_intervals"][0].update(low="abc"), "analysis:NA", "decimal"),
    (lambda d: _analysis(d, "NA").update(result_type="float"), "analysis:NA", "malformed"),
])
def test_broken_catalogue_is_refused_naming_the_element(seed_dict: dict[str, Any], mutate: Any, expression: str,
                                                        words: str) -> None:
    mutate(seed_dict)
    with pytest.raises(InvalidCatalog) as err:
        catalog_from_dict(seed_dict)
    assert err.value.expression == [expression]
    assert words in err.value.diagnostics
    assert err.value.status == 422
