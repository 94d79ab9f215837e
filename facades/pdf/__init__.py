"""PDF facade: the INS Datamatrix and the CR-Bio as PDF/A-1b (WeasyPrint), with its own PDF/A checks."""

from facades.pdf.datamatrix import (
    decode_datamatrix_png,
    ins_datamatrix_content,
    parse_ins_datamatrix,
    render_datamatrix_png,
)
from facades.pdf.errors import DatamatrixError, PdfaConformanceError, PdfInputError
from facades.pdf.pdfa import check_pdfa1b
from facades.pdf.report import pdf_filename, render_html, render_pdfa, warm_renderer
from facades.pdf.view import (
    Chapter,
    Laboratory,
    PatientIdentity,
    Prescriber,
    Replacement,
    ReportTexts,
    ReportView,
    ResultLine,
    Section,
    SpecimenInfo,
    Validation,
)

__all__ = [
    "Chapter",
    "DatamatrixError",
    "Laboratory",
    "PatientIdentity",
    "PdfInputError",
    "PdfaConformanceError",
    "Prescriber",
    "Replacement",
    "ReportTexts",
    "ReportView",
    "ResultLine",
    "Section",
    "SpecimenInfo",
    "Validation",
    "check_pdfa1b",
    "decode_datamatrix_png",
    "ins_datamatrix_content",
    "parse_ins_datamatrix",
    "pdf_filename",
    "render_datamatrix_png",
    "render_html",
    "render_pdfa",
    "warm_renderer",
]
