"""Find the ``ClinicalDocument`` to check in whatever XML was handed in.

A CI-SIS CDA may be "auto-présentable": the root is an ``xsl:stylesheet`` (announced by
``<?xml-stylesheet href="#"?>``) that carries the document in ``data:Contenu/c:ClinicalDocument``.
Validating that root would let the XSD accept it through ``schema-for-xslt20.xsd`` without looking
at the CDA at all, so the ``ClinicalDocument`` is lifted out first, as the ANS kit does.

The lift keeps *every* namespace declaration in scope on the wrapper, not only those lxml sees in
element and attribute names: the examples write ``xsi:type="c:IVL_TS"``, a prefix used only inside
attribute values, and dropping it breaks those QNames.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from facades.cda.errors import NotACda
from resources.outside_xml import parse_outside_xml

HL7_NS = "urn:hl7-org:v3"
CLINICAL_DOCUMENT = f"{{{HL7_NS}}}ClinicalDocument"


@dataclass(frozen=True)
class Extracted:
    """The CDA as a tree rooted at ``ClinicalDocument`` and, if it was embedded, the wrapper's root name."""

    tree: etree._ElementTree
    wrapper: str | None

    def serialize(self) -> bytes:
        return bytes(etree.tostring(self.tree, xml_declaration=True, encoding="UTF-8"))


def _lift(element: etree._Element) -> etree._ElementTree:
    root = etree.Element(element.tag, attrib=dict(element.attrib), nsmap=element.nsmap)
    root.text = element.text
    root.sourceline = element.sourceline
    for child in element:
        root.append(copy.deepcopy(child))
    return etree.ElementTree(root)


def extract_clinical_document(data: bytes) -> Extracted:
    """Parse ``data`` and return its ``ClinicalDocument``; ``NotACda`` if there is none."""
    try:
        tree = etree.ElementTree(parse_outside_xml(data))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        raise NotACda(f"not well-formed XML: {exc.msg}", expression=f"line {line}") from exc
    root = tree.getroot()
    if root.tag == CLINICAL_DOCUMENT:
        return Extracted(tree=tree, wrapper=None)
    inner = next(root.iter(CLINICAL_DOCUMENT), None)
    if inner is None:
        found = etree.QName(root)
        raise NotACda(f"no {{{HL7_NS}}}ClinicalDocument in this XML (root element is {found.text})",
                      expression="/")
    return Extracted(tree=_lift(inner), wrapper=etree.QName(root).localname)
