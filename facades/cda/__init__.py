"""CDA R2 facade: CR-Bio documents (CI-SIS CR-BIO 2024.01, N3 and N1), the lab's self-presenting
stylesheet, the reader of a subcontractor's CR-Bio, and the offline conformance check."""

from facades.cda.conformance import (
    Finding,
    ValidationReport,
    cli_validate,
    format_report,
    schematrons_for,
    validate_cda,
)
from facades.cda.errors import KitError, NotACda
from facades.cda.reader import DocumentPatient, SubcontractedReport, read_crbio
from facades.cda.stylesheet import self_presenting, stylesheet_path
from facades.cda.writer import (
    CrBioInput,
    DocumentVersion,
    Mentions,
    Party,
    SubcontractedPdf,
    is_oid,
    write_n1,
    write_n3,
)

__all__ = [
    "CrBioInput",
    "DocumentPatient",
    "DocumentVersion",
    "Finding",
    "KitError",
    "Mentions",
    "NotACda",
    "Party",
    "SubcontractedPdf",
    "SubcontractedReport",
    "ValidationReport",
    "cli_validate",
    "format_report",
    "is_oid",
    "read_crbio",
    "schematrons_for",
    "self_presenting",
    "stylesheet_path",
    "validate_cda",
    "write_n1",
    "write_n3",
]
