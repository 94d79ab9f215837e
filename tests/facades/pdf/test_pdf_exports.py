"""The public surface of facades.pdf, pinned: other packages import only these names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import facades.pdf

EXPECTED = {
    "Chapter", "DatamatrixError", "Laboratory", "PatientIdentity", "PdfInputError", "PdfaConformanceError",
    "Prescriber", "Replacement", "ReportTexts", "ReportView", "ResultLine", "Section", "SpecimenInfo",
    "Validation", "check_pdfa1b", "decode_datamatrix_png", "ins_datamatrix_content", "parse_ins_datamatrix",
    "pdf_filename", "render_datamatrix_png", "render_html", "render_pdfa",
}


def test_public_surface_is_exactly_the_declared_names() -> None:
    assert set(facades.pdf.__all__) == EXPECTED
    assert all(getattr(facades.pdf, name) is not None for name in facades.pdf.__all__)


def test_package_imports_nothing_from_server_or_other_facades() -> None:
    code = ("import sys, facades.pdf; print(' '.join(m for m in sys.modules if m.split('.')[0] == 'server' "
            "or (m.startswith('facades.') and not m.startswith('facades.pdf'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, timeout=60,
                         cwd=Path(__file__).parents[3], text=True)
    assert out.stdout.split() == []
