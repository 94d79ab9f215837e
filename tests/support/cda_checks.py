"""Checks shared by the CR-Bio writer tests: write an N3, validate it with the ANS kit, read values by XPath."""

from __future__ import annotations

from lxml import etree

from facades.cda import validate_cda
from facades.cda.writer import CrBioInput, write_n3

NS = {"c": "urn:hl7-org:v3", "lab": "urn:oid:1.3.6.1.4.1.19376.1.3.2"}


def conforming_n3(data: CrBioInput) -> etree._Element:
    """Write, validate at N3 (zero errors), return the parsed document."""
    xml = write_n3(data)
    report = validate_cda(xml, level="N3")
    assert report.errors == [], [f"{e.source}: {e.message} @ {e.where()}" for e in report.errors]
    return etree.fromstring(xml)


def values(doc: etree._Element, xpath: str) -> list[str]:
    return [str(v) for v in doc.xpath(xpath, namespaces=NS)]
