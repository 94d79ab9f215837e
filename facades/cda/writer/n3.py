"""``write_n3``: the CR-Bio as CDA R2 level 3 (CI-SIS CR-BIO 2024.01), with its PDF copy inside."""

from __future__ import annotations

from lxml import etree

from facades.cda.writer.body import chapters, structured_body
from facades.cda.writer.header import clinical_document
from facades.cda.writer.model import CrBioInput


def write_n3(data: CrBioInput) -> bytes:
    """The N3 document as UTF-8 bytes; raises ``InvalidInput`` naming the FHIR element at fault."""
    doc = clinical_document(data, "N3", chapters(data))
    structured_body(doc, data)
    return bytes(etree.tostring(doc, xml_declaration=True, encoding="UTF-8"))
