"""The analysis catalogue: model, JSON form, FHIR form and LOINC changes."""

from terminology.catalog.changes import LoincChange, apply_changes, current_assignment, manual_change
from terminology.catalog.fhir import catalog_to_fhir, changed_resources, concept_map
from terminology.catalog.fhir_read import catalog_from_fhir
from terminology.catalog.jsonio import catalog_from_dict, catalog_to_dict
from terminology.catalog.model import (
    Analysis,
    Analyzer,
    Catalog,
    Chapter,
    Container,
    Exam,
    InstrumentCode,
    LoincAssignment,
    LoincParts,
    ReferenceInterval,
    ResultType,
    Sex,
    Specimen,
    SubChapter,
    Target,
    Unit,
)

__all__ = [
    "Analysis", "Analyzer", "Catalog", "Chapter", "Container", "Exam", "InstrumentCode", "LoincAssignment",
    "LoincChange", "LoincParts", "ReferenceInterval", "ResultType", "Sex", "Specimen", "SubChapter", "Target",
    "Unit", "apply_changes", "catalog_from_dict", "catalog_from_fhir", "catalog_to_dict", "catalog_to_fhir",
    "changed_resources", "concept_map", "current_assignment", "manual_change",
]
