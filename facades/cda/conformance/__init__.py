"""Offline CDA conformance check: XSD + the ANS kit's schematrons, with our own Schematron processor."""

from facades.cda.conformance.cli import cli_validate
from facades.cda.conformance.kit import Kit, Level, default_kit, installed_dir, kit_dir, use_data_dir
from facades.cda.conformance.kit_files import KitCheck, build_manifest, check_kit
from facades.cda.conformance.kit_install import DEFAULT_SOURCE, KitInstallError, install_kit
from facades.cda.conformance.report import Finding, ValidationReport, format_report
from facades.cda.conformance.validate import schematrons_for, validate_cda

__all__ = [
    "DEFAULT_SOURCE",
    "Finding",
    "Kit",
    "KitCheck",
    "KitInstallError",
    "Level",
    "ValidationReport",
    "build_manifest",
    "check_kit",
    "cli_validate",
    "default_kit",
    "format_report",
    "install_kit",
    "installed_dir",
    "kit_dir",
    "schematrons_for",
    "use_data_dir",
    "validate_cda",
]
