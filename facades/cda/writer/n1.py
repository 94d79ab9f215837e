"""``write_n1``: the CR-Bio as CDA R2 level 1, the PDF/A in base64 in a ``nonXMLBody`` (SGL.DOC.04).

Same header as the N3 (same patient, people, order, chapters), but the IHE XDS-SD template
instead of the CR-BIO ones, as the Structuration minimale rule for ``nonXMLBody`` demands.
"""

from __future__ import annotations

import base64

from lxml import etree

from facades.cda.writer.body import chapters
from facades.cda.writer.cdaxml import sub
from facades.cda.writer.header import clinical_document
from facades.cda.writer.model import CrBioInput
from resources.errors import InvalidInput


def write_n1(pdf: bytes, header_input: CrBioInput) -> bytes:
    """The N1 document as UTF-8 bytes; ``header_input.pdf`` is ignored, ``pdf`` is the body."""
    if not pdf or not pdf.startswith(b"%PDF-"):
        raise InvalidInput("the CR-Bio N1 body must be a PDF (bytes starting with %PDF-)", expression="pdf")
    doc = clinical_document(header_input, "N1", chapters(header_input))
    body = sub(sub(doc, "component"), "nonXMLBody")
    sub(body, "text", base64.b64encode(pdf).decode("ascii"), mediaType="application/pdf", representation="B64")
    return bytes(etree.tostring(doc, xml_declaration=True, encoding="UTF-8"))
