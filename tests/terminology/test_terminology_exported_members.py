"""The public surface of the terminology package, pinned (other packages import only these names)."""

from __future__ import annotations

import importlib

import pytest

SURFACES = {
    "terminology": {
        "Catalog", "ImportReport", "ImportResult", "InvalidCatalog", "InvalidCode", "LoincChange",
        "StaleLoincChange", "Target", "UnknownCatalogCode", "apply_changes", "catalog_from_fhir", "catalog_to_fhir",
        "changed_resources", "check_loinc", "export_loinc_files", "is_valid_loinc", "is_valid_ucum",
        "load_circuit_value_set", "load_seed_catalog", "load_value_set_codes", "loinc_check_digit", "manual_change",
        "parse_concept_map_import", "parse_loinc_import",
        "ANALYZER_SYSTEM", "CATALOG_SYSTEM", "CONCEPT_MAP_URL", "EXT_ALT_UNIT", "EXT_INSTRUMENT", "LOINC_SYSTEM",
        "NABM_SYSTEM", "SPECIMEN_SYSTEM", "UCUM_SYSTEM"},
    "terminology.loinc_files": {
        "LOINC_1", "LOINC_2", "LOINC_3", "LOINC_4", "LOINC_5", "LOINC_6", "FileFormat", "Finding", "ImportReport",
        "ImportResult", "ReportEntry", "export_loinc_files", "parse_concept_map_import", "parse_loinc_import"},
    "terminology.seed": {"load_seed_catalog"},
    "terminology.valuesets": {"load_circuit_value_set", "load_value_set_codes"},
}


@pytest.mark.parametrize("module", sorted(SURFACES))
def test_public_surface_is_pinned_and_importable(module: str) -> None:
    mod = importlib.import_module(module)
    assert set(mod.__all__) == SURFACES[module]
    assert all(hasattr(mod, name) for name in mod.__all__)


def test_catalog_surface_exports_the_model_and_mappings() -> None:
    catalog = importlib.import_module("terminology.catalog")
    assert {"Analysis", "Exam", "Chapter", "catalog_to_fhir", "catalog_from_fhir", "apply_changes",
            "manual_change", "concept_map"} <= set(catalog.__all__)
    assert all(hasattr(catalog, name) for name in catalog.__all__)
