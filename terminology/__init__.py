"""OpenSGL terminology: the lab's analysis catalogue, LOINC and UCUM checks, LOINC_1..6 files, value sets,
and the FHIR vocabulary (code systems, extension URLs) the catalogue is stored with.

Pure code and data: nothing here does I/O beyond reading and writing the files it is given.
The server loads the seed catalogue, stores it as FHIR resources (``catalog_to_fhir``), reads it
back (``catalog_from_fhir``), runs the LOINC exports and imports and applies their changes.
"""

from terminology.catalog import (
    Catalog,
    LoincChange,
    Target,
    apply_changes,
    catalog_from_fhir,
    catalog_to_fhir,
    changed_resources,
    manual_change,
)
from terminology.catalog.fhir import (
    ANALYZER_SYSTEM,
    CATALOG_SYSTEM,
    CONCEPT_MAP_URL,
    EXT_ALT_UNIT,
    EXT_INSTRUMENT,
    NABM_SYSTEM,
    SPECIMEN_SYSTEM,
)
from terminology.errors import InvalidCatalog, InvalidCode, StaleLoincChange, UnknownCatalogCode
from terminology.loinc import LOINC_SYSTEM, check_loinc, is_valid_loinc, loinc_check_digit
from terminology.loinc_files import (
    ImportReport,
    ImportResult,
    export_loinc_files,
    parse_concept_map_import,
    parse_loinc_import,
)
from terminology.seed import load_seed_catalog
from terminology.ucum import UCUM_SYSTEM, is_valid_ucum
from terminology.valuesets import load_circuit_value_set, load_value_set_codes

__all__ = [
    "ANALYZER_SYSTEM", "CATALOG_SYSTEM", "CONCEPT_MAP_URL", "EXT_ALT_UNIT", "EXT_INSTRUMENT",
    "LOINC_SYSTEM", "NABM_SYSTEM", "SPECIMEN_SYSTEM", "UCUM_SYSTEM", "Catalog",
    "ImportReport", "ImportResult", "InvalidCatalog", "InvalidCode", "LoincChange",
    "StaleLoincChange", "Target", "UnknownCatalogCode", "apply_changes", "catalog_from_fhir",
    "catalog_to_fhir", "changed_resources", "check_loinc", "export_loinc_files", "is_valid_loinc",
    "is_valid_ucum", "load_circuit_value_set", "load_seed_catalog", "load_value_set_codes", "loinc_check_digit",
    "manual_change", "parse_concept_map_import", "parse_loinc_import",
]
