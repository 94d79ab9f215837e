"""Generation: PDF/A-1b (sealed when a seal is configured), then the N3, then the N1 embedding that PDF.

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
from facades.pdf.seal_config import SealConfig
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


def sealed(pdf: bytes, seal: SealConfig, lab_name: str) -> bytes:
    """The PDF with the lab's electronic seal (SGL.DOC.19); ``SealConfigError`` if the certificate cannot seal
    now (expired since start-up, files changed): nothing is stored then."""
    from facades.pdf.seal import current_seal, seal_pdf  # pyHanko only in processes that seal

    return seal_pdf(pdf, current_seal(seal), lab_name)


def generate(dossier: Dossier, version: Version, *, check: bool = True, seal: SealConfig | None = None) -> Documents:
    """With ``seal``, the PDF is sealed before the N1 embeds it, so the N1 carries the sealed file."""
    view = report_view(dossier, version)
    pdf = render_pdfa(view)
    if seal is not None:
        pdf = sealed(pdf, seal, view.laboratory.name)
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
