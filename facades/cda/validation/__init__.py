"""Offline CDA conformance check: XSD + the ANS kit's schematrons, with our own Schematron processor."""

from facades.cda.validation.cli import cli_validate
from facades.cda.validation.kit import Kit, Level, default_kit
from facades.cda.validation.report import Finding, ValidationReport, format_report
from facades.cda.validation.validate import schematrons_for, validate_cda

__all__ = [
    "Finding",
    "Kit",
    "Level",
    "ValidationReport",
    "cli_validate",
    "default_kit",
    "format_report",
    "schematrons_for",
    "validate_cda",
]
