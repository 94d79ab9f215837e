"""Generation: PDF/A-1b, then the N3 embedding that PDF (self-presenting), then the N1 with the same PDF.

Each CDA is checked with the ANS validator at its level before anything is stored: a document that
fails is never stored (``DocumentRejected``), the step that asked for it is refused with the
findings. The work is CPU-bound (WeasyPrint, XSLT schematrons): callers run it in a thread.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from facades.cda import validate_cda, write_n1, write_n3
from facades.cda.stylesheet import self_presenting
from facades.pdf import ReportView, pdf_filename, render_pdfa
from resources.errors import InvalidInput
from server.documents.compose import Version, crbio_input, document_ids, report_view
from server.documents.errors import DocumentInputError, DocumentRejected
from server.documents.gather import Dossier


@dataclass(frozen=True)
class Documents:
    view: ReportView
    pdf: bytes
    n3: bytes
    n1: bytes
    version: Version

    @property
    def pdf_name(self) -> str:
        return pdf_filename(self.view)

    def name(self, fmt: str) -> str:
        """``CR-BIO_…_V2.pdf`` and the same stem for the CDA (``…_V2_N3.xml``)."""
        return self.pdf_name if fmt == "pdf" else self.pdf_name.removesuffix(".pdf") + f"_{fmt.upper()}.xml"


def generate(dossier: Dossier, version: Version, *, check: bool = True) -> Documents:
    view = report_view(dossier, version)
    pdf = render_pdfa(view)
    data = crbio_input(dossier, version, pdf)
    try:
        n3 = self_presenting(write_n3(data))
        n1 = write_n1(pdf, dataclasses.replace(data, version=document_ids(dossier, version.number, ".n1")))
    except InvalidInput as exc:  # what the stored resources lack, named on the FHIR element (422)
        raise DocumentInputError(exc) from exc
    if check:
        for level, document in (("N3", n3), ("N1", n1)):
            report = validate_cda(document, level="N3" if level == "N3" else "N1")
            if not report.ok:
                raise DocumentRejected(level, report)
    return Documents(view, pdf, n3, n1, version)
