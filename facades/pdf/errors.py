"""Errors of the PDF facade, placed in the shared tree of ``resources.errors``.

Ordered by what the caller can do::

    InvalidInput                      (resources.errors)
    └── PdfInputError                 the Patient or report view cannot be printed: fix the data
        └── DatamatrixError           an INS Datamatrix string or image that cannot be read
    SglError                          (resources.errors)
    ├── PdfaConformanceError          our own output fails the PDF/A-1b checks: a defect, give up
    └── SealConfigError               the configured seal certificate/key/chain cannot seal: fix the setting

``expression`` names the spot: a FHIRPath on the Patient, a dotted path in the report view
(``view.chapters[0].sections[1].results[2].value``) or a Datamatrix field (``Datamatrix.S3``).
"""

from __future__ import annotations

from resources.errors import InvalidInput, Issue, SglError


class PdfInputError(InvalidInput):
    """The data handed to the PDF facade cannot be printed as it is."""


class DatamatrixError(PdfInputError):
    """An INS Datamatrix content string or image that cannot be built or read."""


class PdfaConformanceError(SglError):
    """The rendered PDF is not PDF/A-1b: one issue per problem found by ``check_pdfa1b``."""

    status = 500
    issue_code = "exception"

    def __init__(self, problems: list[str]) -> None:
        issues = [Issue(code=self.issue_code, diagnostics=p, expression=("PDF",)) for p in problems]
        super().__init__("; ".join(problems), issues=issues)
        self.problems = list(problems)


class SealConfigError(SglError):
    """The configured CR-Bio seal (SGL.DOC.19) cannot be used: unreadable, expired, wrong key usage."""

    status = 500
    issue_code = "exception"
