"""LOINC transcoding files (SGL.LOI.01–07, 10): CSV exports LOINC_1–3, imports LOINC_4–6 (CSV or ConceptMap)."""

from terminology.loinc_files.export import export_loinc_files
from terminology.loinc_files.fhir_import import parse_concept_map_import
from terminology.loinc_files.formats import LOINC_1, LOINC_2, LOINC_3, LOINC_4, LOINC_5, LOINC_6, FileFormat
from terminology.loinc_files.importer import ImportResult, parse_loinc_import
from terminology.loinc_files.report import Finding, ImportReport, ReportEntry

__all__ = [
    "LOINC_1", "LOINC_2", "LOINC_3", "LOINC_4", "LOINC_5", "LOINC_6", "FileFormat", "Finding", "ImportReport",
    "ImportResult", "ReportEntry", "export_loinc_files", "parse_concept_map_import", "parse_loinc_import",
]
