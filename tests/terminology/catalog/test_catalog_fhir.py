"""Catalogue -> FHIR R4 (terminology/catalog/fhir.py), validated with the fhir.resources R4B models."""

from __future__ import annotations

import importlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from terminology.catalog.changes import apply_changes, manual_change
from terminology.catalog.fhir import (
    CATALOG_SYSTEM,
    EXT_LOINC_DATES,
    activity_definition,
    catalog_to_fhir,
    changed_resources,
    code_system,
    concept_map,
    observation_definition,
)
from terminology.catalog.fhir_read import catalog_from_fhir
from terminology.catalog.model import Catalog, Target
from terminology.errors import InvalidCatalog
from terminology.loinc import LOINC_SYSTEM


def _validate(resource: dict[str, Any]) -> None:
    kind = resource["resourceType"]
    model = getattr(importlib.import_module(f"fhir.resources.R4B.{kind.lower()}"), kind)
    model.model_validate(resource)


def test_every_catalogue_resource_validates_against_r4b(catalog: Catalog) -> None:
    resources = json.loads(json.dumps(catalog_to_fhir(catalog)))  # plain JSON, nothing Python-only
    kinds = [r["resourceType"] for r in resources]
    assert kinds.count("ObservationDefinition") == len(catalog.analyses)
    assert kinds.count("ActivityDefinition") == len(catalog.exams)
    assert kinds.count("CodeSystem") == kinds.count("ConceptMap") == 1
    for resource in resources:
        _validate(resource)


def test_observation_definition_carries_codes_unit_intervals_and_critical_limits(catalog: Catalog) -> None:
    od = observation_definition(catalog.analysis("K"), catalog)
    codings = {c["system"]: c for c in od["code"]["coding"]}
    assert codings[CATALOG_SYSTEM]["code"] == "K" and codings[LOINC_SYSTEM]["code"] == "2823-3"
    assert codings[LOINC_SYSTEM]["extension"][0]["url"] == EXT_LOINC_DATES
    assert od["quantitativeDetails"] == {"unit": {"coding": [{"system": "http://unitsofmeasure.org",
                                                              "code": "mmol/L", "display": "mmol/L"}],
                                                  "text": "mmol/L"}, "decimalPrecision": 1}
    reference = [q for q in od["qualifiedInterval"] if q["category"] == "reference"]
    critical = [q["range"] for q in od["qualifiedInterval"] if q["category"] == "critical"]
    assert reference[0]["range"]["low"]["value"] == 3.5 and reference[0]["range"]["high"]["code"] == "mmol/L"
    assert {"high": {"value": 2.8, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}} \
        in critical
    assert any("low" in r and r["low"]["value"] == 6.2 for r in critical)


def test_reference_intervals_by_sex_and_age_map_to_gender_and_age(catalog: Catalog) -> None:
    od = observation_definition(catalog.analysis("VS"), catalog)
    intervals = od["qualifiedInterval"]
    assert {q.get("gender") for q in intervals} == {"male", "female"}
    assert {"high": {"value": 50, "unit": "ans", "system": "http://unitsofmeasure.org", "code": "a"}} in [
        q.get("age") for q in intervals]


def test_activity_definition_points_at_its_analyses_and_specimen(catalog: Catalog) -> None:
    ad = activity_definition(catalog.exam("IONO"), catalog)
    assert [r["reference"] for r in ad["observationResultRequirement"]] == [
        "ObservationDefinition/analysis-NA", "ObservationDefinition/analysis-K", "ObservationDefinition/analysis-CL",
        "ObservationDefinition/analysis-CO2"]
    assert ad["specimenRequirement"] == [{"reference": "SpecimenDefinition/specimen-SER"}]
    nfs = activity_definition(catalog.exam("NFS"), catalog)
    systems = {c["system"]: c["code"] for c in nfs["code"]["coding"]}
    assert systems[LOINC_SYSTEM] == "58410-2"
    assert systems["https://smt.esante.gouv.fr/terminologie-nabm"] == "1104"


def test_code_system_nests_sub_chapters_and_members_under_chapters(catalog: Catalog) -> None:
    cs = code_system(catalog)
    hemat = next(c for c in cs["concept"] if c["code"] == "HEMAT")
    nfs = next(c for c in hemat["concept"] if c["code"] == "HEMAT-NFS")
    assert {"NFS", "HB", "PLQ"} <= {c["code"] for c in nfs["concept"]}
    biochem = next(c for c in cs["concept"] if c["code"] == "BIOCH")
    loinc = next(p for p in biochem["property"] if p["code"] == "loinc")
    assert loinc["valueCoding"]["code"] == "18719-5"

    def count(concepts: list[dict[str, Any]]) -> int:
        return sum(1 + count(c.get("concept", [])) for c in concepts)

    assert count(cs["concept"]) == cs["count"]


def test_concept_map_maps_every_coded_element_to_loinc_in_one_group(catalog: Catalog) -> None:
    cm = concept_map(catalog)
    assert len(cm["group"]) == 1
    group = cm["group"][0]
    assert group["source"] == CATALOG_SYSTEM and group["target"] == LOINC_SYSTEM
    targets = {e["code"]: e["target"][0]["code"] for e in group["element"]}
    assert targets["GLU"] == "2345-7" and targets["GLUM"] == "14749-6" and targets["HEMAT"] == "18723-7"
    assert "IMMUN" not in targets  # no LOINC code yet: nothing to map
    _validate(cm)


def test_catalogue_reads_back_from_its_fhir_resources(catalog: Catalog) -> None:
    again = catalog_from_fhir(json.loads(json.dumps(catalog_to_fhir(catalog))))

    def by_code(c: Catalog) -> Catalog:
        return replace(c, containers=tuple(sorted(c.containers, key=lambda x: x.code)))

    assert by_code(again) == by_code(catalog)


@pytest.mark.parametrize(("kind", "breaks", "expression"), [
    ("ObservationDefinition", lambda r: r.pop("code"), "ObservationDefinition/analysis-GLU"),
    ("ObservationDefinition", lambda r: r["code"]["coding"][1].pop("extension"),
     "ObservationDefinition/analysis-GLU.code"),
    ("ActivityDefinition", lambda r: r["specimenRequirement"][0].update(reference="Specimen/x"),
     "ActivityDefinition/exam-GLY"),
])
def test_unreadable_resource_names_itself(catalog: Catalog, kind: str, breaks: Any, expression: str) -> None:
    resources = json.loads(json.dumps(catalog_to_fhir(catalog)))
    breaks(next(r for r in resources if r["resourceType"] == kind))
    with pytest.raises(InvalidCatalog) as err:
        catalog_from_fhir(resources)
    assert err.value.expression == [expression]


@pytest.mark.req("SGL.LOI.09")
def test_changed_resources_carry_the_new_code_and_its_dates_SGL_LOI_09(catalog: Catalog) -> None:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    changes = [manual_change(catalog, Target.ANALYSIS, "NA", "2947-0", "Sodium sang", "bio"),
               manual_change(catalog, Target.EXAM, "IONO", "24326-1", "Ionogramme", "bio")]
    after = apply_changes(catalog, changes, now)
    resources = changed_resources(after, changes)
    assert [r["resourceType"] + "/" + r["id"] for r in resources] == [
        "CodeSystem/catalogue", "ObservationDefinition/analysis-NA", "ActivityDefinition/exam-IONO",
        "ConceptMap/catalogue-loinc"]
    loinc = next(c for c in resources[1]["code"]["coding"] if c["system"] == LOINC_SYSTEM)
    dates = {e["url"]: e.get("valueDateTime") for e in loinc["extension"][0]["extension"]}
    assert loinc["code"] == "2947-0" and dates["modified"] == now.isoformat()
    assert dates["created"] == catalog.analysis("NA").loinc.created.isoformat()  # type: ignore[union-attr]
    assert changed_resources(after, []) == []
