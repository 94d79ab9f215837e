"""The one parser of outside XML (``resources/outside_xml.py``): entity bombs, external entities, deep and
oversized documents are refused; and no other module parses outside XML another way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from resources.outside_xml import XmlRefused, parse_outside_xml

ROOT = Path(__file__).resolve().parents[2]
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lollollollollollollollollollol">'
                  + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((n,) + (n - 1,) * 10)
                             for n in range(ord("b"), ord("k")))
                  + b"]><Envelope><Body>&j;</Body></Envelope>")
EXTERNAL_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                   b"<Envelope><Body>&e;</Body></Envelope>")
# A small bomb under libxml2's amplification guard: only the DTD rule stops it.
SMALL_BOMB = (b'<!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;">]><Envelope>&b;</Envelope>')


def deep(levels: int) -> bytes:
    return b"<ClinicalDocument>" + b"<component>" * levels + b"x" + b"</component>" * levels + b"</ClinicalDocument>"


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY, SMALL_BOMB],
                         ids=["billion-laughs", "external-entity", "small-bomb"])
def test_entities_are_never_expanded_and_a_dtd_is_refused(document: bytes) -> None:
    with pytest.raises(etree.XMLSyntaxError) as caught:
        parse_outside_xml(document)
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd in the answer


def test_a_document_deeper_than_256_levels_is_refused_and_one_under_is_read() -> None:
    assert parse_outside_xml(deep(200)).tag == "ClinicalDocument"
    for levels in (300, 1_000, 100_000):  # 1,000 passed with huge_tree, as the CR-Bio reader had it
        with pytest.raises(etree.XMLSyntaxError, match="depth"):
            parse_outside_xml(deep(levels))


def test_size_is_refused_before_parsing() -> None:
    with pytest.raises(XmlRefused, match="passes the 100 bytes"):
        parse_outside_xml(b"<a>" + b" " * 200 + b"</a>", max_bytes=100)
    assert parse_outside_xml(b"<a>" + b" " * 90 + b"</a>", max_bytes=100).tag == "a"


def test_a_text_node_over_ten_megabytes_is_refused() -> None:
    """huge_tree stays off: an embedded PDF copy up to ~7.5 MB (10 MB of base64) is the most a CR-Bio carries."""
    assert len(parse_outside_xml(b"<a>" + b"A" * 9_000_000 + b"</a>").text or "") == 9_000_000
    with pytest.raises(etree.XMLSyntaxError, match="Text node too long"):
        parse_outside_xml(b"<a>" + b"A" * 11_000_000 + b"</a>")


# Modules that parse XML the lab wrote itself or reads from its installed kits, not outside XML.
OWN_XML = {
    "facades/cda/stylesheet/selfpresenting.py",  # wraps the N3 our writer just made
    "facades/cda/conformance/schematron.py",  # the SVRL our XSLT produced
    "facades/cda/conformance/xslt.py",  # a fixed prelude
    "facades/cda/conformance/kit.py",  # the installed ANS kit
    "facades/cda/conformance/kit_files.py",
    "facades/cda/conformance/xsd.py",
    "facades/cda/conformance/assemble.py",
    "facades/insi/directory.py",  # the installed INSi kit (read with the hardened parser all the same)
}
PARSE = re.compile(r"etree\.(fromstring|parse|XML|XMLParser|iterparse)\(|xml\.(etree|dom|sax)|minidom")


def test_no_module_parses_outside_xml_another_way() -> None:
    found = set()
    for package in ("server", "facades", "resources", "terminology"):
        for path in (ROOT / package).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if name != "resources/outside_xml.py" and PARSE.search(path.read_text(encoding="utf-8")):
                found.add(name)
    assert found == OWN_XML
