"""The one way to parse XML that came from outside: a partner's CR-Bio, a SOAP answer, a VIHF, an XMP packet.

What an outside document cannot do here:

* declare a DTD (``<!DOCTYPE``): no entity is ever expanded or fetched, so neither an entity bomb
  (billion laughs) nor an external entity (XXE, ``file:///etc/passwd``) gets anywhere; the document is
  refused, as signxml refuses it (no XML a lab exchanges in France carries a DTD: CDA, SOAP 1.2, SAML, XMP);
* reach the network (``no_network``) or load a DTD (``load_dtd=False``);
* pass ``MAX_OUTSIDE_XML_BYTES`` (or the caller's smaller bound): refused before the parser sees a byte;
* go deeper than 256 levels, or hold a text node over 10 MB: libxml2's own limits, kept because
  ``huge_tree`` stays off. The largest document of the ANS kits is 3 MB, its deepest far under 256
  levels; an embedded PDF copy up to about 7.5 MB (10 MB of base64) still fits.

Refusals are :class:`XmlRefused`, a subclass of lxml's ``XMLSyntaxError``, so a caller's existing
``except etree.XMLSyntaxError`` turns them into its own error (a 400 OperationOutcome, a SOAP fault,
a NACK) with the same message and line.

XML the lab writes itself or reads from its installed kits (XSLT, schemas, ANS test kits) is not
outside XML and may be parsed otherwise.
"""

from __future__ import annotations

from lxml import etree

MAX_OUTSIDE_XML_BYTES = 64 * 1024 * 1024
"""The largest outside document (the HTTP document body limit): a CR-Bio with its PDF copy."""


class XmlRefused(etree.XMLSyntaxError):  # type: ignore[misc]  # lxml's stubs leave it untyped
    """Outside XML refused by a rule of this module (a DTD, its size), before or after parsing."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message, 0, line, 0)


def outside_xml_parser() -> etree.XMLParser:
    """A parser that expands no entity, loads no DTD, never reaches the network, keeps libxml2's limits."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False)


def parse_outside_xml(data: bytes, *, max_bytes: int = MAX_OUTSIDE_XML_BYTES) -> etree._Element:
    """The root element of ``data``; :class:`XmlRefused` or ``XMLSyntaxError`` when it cannot be taken."""
    if len(data) > max_bytes:
        raise XmlRefused(f"the XML document ({len(data)} bytes) passes the {max_bytes} bytes accepted")
    root: etree._Element = etree.fromstring(data, outside_xml_parser())
    refuse_dtd(root)
    return root


def refuse_dtd(root: etree._Element) -> None:
    """Refuse a parsed document that declares a DTD (for callers that parse a file with the parser above)."""
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlRefused("a DTD (<!DOCTYPE ...>) is not accepted in this XML document: entities are never expanded")
