"""Generation: PDF/A-1b (sealed when a seal is configured), then the N3, then the N1 embedding that PDF.

A lab that makes two versions (SGL.DOC.02, ``audience.py``) runs this same generation once per audience:
``generate_versions`` gives the professional version (N3, N1, PDF, as the single version) and the patient
version (N3 and PDF, no N1), each checked by the same ANS validator.

Each CDA is checked with the ANS validator at its level before anything is stored: a document that
fails is never stored (``DocumentRejected``), the step that asked for it is refused with the
findings. The work is CPU-bound (WeasyPrint, XSLT schematrons): the server runs it in its document process
pool (``producer.py``), never on the event loop.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from facades.cda import validate_cda, write_n1, write_n3
from facades.cda.stylesheet import self_presenting
from facades.pdf import ReportView, pdf_filename, render_pdfa
from facades.pdf.seal_config import SealConfig
from resources.errors import InvalidInput
from server.documents.audience import FORMATS, PATIENT, audiences, for_audience
from server.documents.compose import Version, crbio_input, document_ids, report_view
from server.documents.errors import DocumentInputError, DocumentRejected
from server.documents.gather import Dossier


@dataclass(frozen=True)
class Documents:
    view: ReportView
    pdf: bytes
    n3: bytes
    n1: bytes | None
    """None for the patient version (SGL.DOC.02: the N1 goes to the DMP, which gets the professional one)."""
    version: Version
    audience: str | None = None
    """``professional`` / ``patient`` when the lab makes two versions; None for its single version."""

    @property
    def pdf_name(self) -> str:
        """The ECO file name; the patient copy's ends ``_PATIENT.pdf`` (two files, two names)."""
        name = pdf_filename(self.view)
        return name.removesuffix(".pdf") + "_PATIENT.pdf" if self.audience == PATIENT else name

    def name(self, fmt: str) -> str:
        """``CR-BIO_…_V2.pdf`` and the same stem for the CDA (``…_V2_N3.xml``)."""
        return self.pdf_name if fmt == "pdf" else self.pdf_name.removesuffix(".pdf") + f"_{fmt.upper()}.xml"

    @property
    def contents(self) -> dict[str, bytes]:
        """The formats of this version, by name (``n3``, ``n1``, ``pdf``; the patient version has no N1)."""
        found = {"n3": self.n3, "n1": self.n1, "pdf": self.pdf}
        return {fmt: content for fmt, content in found.items() if content is not None}


def sealed(pdf: bytes, seal: SealConfig, lab_name: str) -> bytes:
    """The PDF with the lab's electronic seal (SGL.DOC.19); ``SealConfigError`` if the certificate cannot seal
    now (expired since start-up, files changed): nothing is stored then."""
    from facades.pdf.seal import current_seal, seal_pdf  # pyHanko only in processes that seal

    return seal_pdf(pdf, current_seal(seal), lab_name)


def generate(dossier: Dossier, version: Version, *, check: bool = True, seal: SealConfig | None = None,
             audience: str | None = None) -> Documents:
    """With ``seal``, the PDF is sealed before the N1 embeds it, so the N1 carries the sealed file. ``audience``:
    the copy to make when the lab makes two (SGL.DOC.02); None, the single version."""
    dossier = for_audience(dossier, audience)
    view = report_view(dossier, version, audience)
    pdf = render_pdfa(view)
    if seal is not None:
        pdf = sealed(pdf, seal, view.laboratory.name)
    data = crbio_input(dossier, version, pdf, audience)
    with_n1 = audience is None or "n1" in FORMATS[audience]
    try:
        n3 = self_presenting(write_n3(data))
        n1 = write_n1(pdf, dataclasses.replace(data, version=document_ids(dossier, version.number, ".n1"))
                      ) if with_n1 else None
    except InvalidInput as exc:  # what the stored resources lack, named on the FHIR element (422)
        raise DocumentInputError(exc) from exc
    if check:
        for level, document in (("N3", n3), ("N1", n1)):
            if document is None:
                continue
            report = validate_cda(document, level="N3" if level == "N3" else "N1")
            if not report.ok:
                raise DocumentRejected(level, report)
    return Documents(view, pdf, n3, n1, version, audience)


def generate_versions(dossier: Dossier, version: Version, *, check: bool = True,
                      seal: SealConfig | None = None) -> tuple[Documents, ...]:
    """Every version the lab's setting asks for (``LabProfile.versions``): the single one, or the professional
    then the patient one; all or none (one refused refuses the step)."""
    return tuple(generate(dossier, version, check=check, seal=seal, audience=audience)
                 for audience in audiences(dossier.profile.versions))
