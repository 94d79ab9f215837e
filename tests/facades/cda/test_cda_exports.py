"""The public surface of the CDA facade, pinned."""

from __future__ import annotations

import facades.cda
import facades.cda.validation


def test_cda_package_exports() -> None:
    assert sorted(facades.cda.__all__) == [
        "CrBioInput", "DocumentPatient", "DocumentVersion", "Finding", "KitError", "Mentions", "NotACda", "Party",
        "SubcontractedPdf",
        "SubcontractedReport", "ValidationReport", "cli_validate", "format_report", "read_crbio", "schematrons_for",
        "self_presenting", "stylesheet_path", "validate_cda", "write_n1", "write_n3",
    ]
    assert all(hasattr(facades.cda, name) for name in facades.cda.__all__)


def test_cda_validation_package_exports() -> None:
    assert sorted(facades.cda.validation.__all__) == [
        "DEFAULT_SOURCE", "Finding", "Kit", "KitCheck", "KitInstallError", "Level", "ValidationReport",
        "build_manifest", "check_kit", "cli_validate", "default_kit", "format_report", "install_kit", "installed_dir",
        "kit_dir", "schematrons_for", "use_data_dir", "validate_cda",
    ]
    assert all(hasattr(facades.cda.validation, name) for name in facades.cda.validation.__all__)
