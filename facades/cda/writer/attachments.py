"""PDFs inside the N3: the copy of this report (FR-Document-PDF-copie, mandatory in CR-BIO 2024.01)
and a subcontracting lab's own report (FR-Resultats-de-laboratoire-de-biologie-de-seconde-intention,
the first option of SGL.DOC.13), both as a FR-Document-attache entry with the PDF in base64.
"""

from __future__ import annotations

import base64
import uuid

from lxml import etree

from facades.cda.writer.cdaxml import LOINC, sub, templates
from facades.cda.writer.model import SubcontractedPdf
from resources.codes import LAB_REPORT_DISPLAY_FR, LAB_REPORT_LOINC
from resources.errors import InvalidInput

PDF_COPY = ("1.2.250.1.213.1.1.2.243", "55108-5", "Copie du document")
SECOND_INTENTION = ("1.2.250.1.213.1.1.2.60", "101792-0", "Résultats de laboratoire scannés")
CR_BIO = (LAB_REPORT_LOINC, LAB_REPORT_DISPLAY_FR)


def _checked(pdf: bytes | None, expression: str) -> bytes:
    if not pdf or not pdf.startswith(b"%PDF-"):
        raise InvalidInput("an attached document must be a PDF (bytes starting with %PDF-)", expression=expression)
    return pdf


def _loinc(parent: etree._Element, tag: str, code: str, display: str, **attrs: str) -> etree._Element:
    return sub(parent, tag, code=code, displayName=display, codeSystem=LOINC, codeSystemName="LOINC", **attrs)


def _section(body: etree._Element, kind: tuple[str, str, str], title: str) -> etree._Element:
    section = sub(sub(body, "component"), "section")
    templates(section, kind[0])
    sub(section, "id", root=str(uuid.uuid4()).upper())
    _loinc(section, "code", kind[1], kind[2])
    sub(section, "title", title)
    return section


def _attached(section: etree._Element, pdf: bytes, media_id: str, label_id: str,
              document_type: tuple[str, str]) -> None:
    """The FR-Document-attache organizer: the document type, then the PDF as observationMedia."""
    organizer = sub(sub(section, "entry"), "organizer", classCode="CLUSTER", moodCode="EVN")
    templates(organizer, "1.2.250.1.213.1.1.3.18")
    sub(organizer, "id", root=str(uuid.uuid4()).upper())
    _loinc(organizer, "code", "55107-7", "Document attaché")
    sub(organizer, "statusCode", code="completed")
    kind = sub(sub(organizer, "component"), "observation", classCode="OBS", moodCode="EVN")
    templates(kind, "1.3.6.1.4.1.19376.1.5.3.1.4.13", "1.2.250.1.213.1.1.3.48", "1.2.250.1.213.1.1.3.48.18")
    sub(kind, "id", root=str(uuid.uuid4()).upper())
    _loinc(kind, "code", "69764-9", "Type de document")
    sub(sub(kind, "text"), "reference", value=f"#{label_id}")
    sub(kind, "statusCode", code="completed")
    sub(kind, "effectiveTime", nullFlavor="NA")
    _loinc(kind, "value", *document_type, xsi_type="CD")
    media = sub(sub(organizer, "component"), "observationMedia", classCode="OBS", moodCode="EVN", ID=media_id)
    sub(media, "value", base64.b64encode(pdf).decode("ascii"), mediaType="application/pdf", representation="B64")


def pdf_copy(body: etree._Element, pdf: bytes | None) -> None:
    """FR-Document-PDF-copie: this report's own PDF/A."""
    pdf = _checked(pdf, "CrBioInput.pdf")
    section = _section(body, PDF_COPY, "Copie du document")
    cell = sub(sub(sub(sub(sub(section, "text"), "table", border="0"), "tbody"), "tr"), "td")
    sub(cell, "content", "Copie PDF du compte rendu", ID="pdf-copie-titre")
    sub(cell, "renderMultiMedia", referencedObject="pdf-copie")
    _attached(section, pdf, "pdf-copie", "pdf-copie-titre", PDF_COPY[1:])


def subcontracted_pdf_section(body: etree._Element, report: SubcontractedPdf, index: int) -> None:
    """A subcontractor's report as PDF, naming the lab and its contact details in the narrative (SGL.DOC.13)."""
    pdf = _checked(report.pdf, f"CrBioInput.subcontracted_pdfs[{index}].pdf")
    lab = report.laboratory
    section = _section(body, SECOND_INTENTION, report.title)
    text = sub(section, "text")
    label = f"sous-traitance-{index + 1}"
    sub(sub(text, "paragraph"), "content", f"{report.title} — {lab.get('name') or 'laboratoire exécutant'}",
        ID=f"{label}-titre")
    address = (lab.get("address") or [{}])[0]
    contact = [*address.get("line", []), " ".join(p for p in (address.get("postalCode"), address.get("city")) if p)]
    contact += [f"{'Tél.' if point.get('system') == 'phone' else 'Messagerie'} {point['value']}"
                for point in lab.get("telecom", []) if point.get("value")]
    sub(text, "paragraph", "Coordonnées : " + ", ".join(c for c in contact if c))
    sub(sub(text, "paragraph"), "renderMultiMedia", referencedObject=label)
    _attached(section, pdf, label, f"{label}-titre", CR_BIO)
