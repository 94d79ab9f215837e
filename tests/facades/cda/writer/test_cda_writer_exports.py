"""The public surface of the CR-Bio writer and of the stylesheet package, pinned."""

from __future__ import annotations

import facades.cda.stylesheet
import facades.cda.writer


def test_writer_exports() -> None:
    assert sorted(facades.cda.writer.__all__) == [
        "CrBioInput", "DocumentVersion", "Mentions", "Party", "SubcontractedPdf", "write_n1", "write_n3"]
    assert all(hasattr(facades.cda.writer, name) for name in facades.cda.writer.__all__)


def test_stylesheet_exports() -> None:
    assert sorted(facades.cda.stylesheet.__all__) == ["self_presenting", "stylesheet_path"]
    assert facades.cda.stylesheet.stylesheet_path().is_file()
