"""CDA R2 facade: CR-Bio documents (CI-SIS CR-BIO 2024.01, N3 and N1) and their conformance check."""

from facades.cda.errors import KitError, NotACda
from facades.cda.validation import (
    Finding,
    ValidationReport,
    cli_validate,
    format_report,
    schematrons_for,
    validate_cda,
)

__all__ = [
    "Finding",
    "KitError",
    "NotACda",
    "ValidationReport",
    "cli_validate",
    "format_report",
    "schematrons_for",
    "validate_cda",
]
