"""Self-presenting CR-Bio N3 (SGL.DOC.03): the lab's XSL stylesheet carrying the ClinicalDocument.

The ANS "auto-présentable" form: the file's root is the ``xsl:stylesheet`` itself, preceded by
``<?xml-stylesheet type="text/xsl" href="#"?>``, and the CDA sits in ``data:Contenu``
(``urn:asip-sante:ci-sis``) as a top-level element the XSLT processor ignores. A browser opening
the file applies the file to itself and shows the report; the validator extracts the
``ClinicalDocument`` (namespace declarations kept, so ``xsi:type`` QNames still resolve).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

from resources.errors import InvalidInput

HL7 = "urn:hl7-org:v3"
CONTENU = "urn:asip-sante:ci-sis"
STYLESHEET = Path(__file__).with_name("crbio.xsl")


def stylesheet_path() -> Path:
    """The lab's CR-Bio stylesheet (XSLT 1.0), e.g. to publish next to plain N3 files."""
    return STYLESHEET


@lru_cache(maxsize=1)
def _stylesheet() -> bytes:
    return STYLESHEET.read_bytes()


def self_presenting(n3: bytes) -> bytes:
    """Wrap an N3 ``ClinicalDocument`` into the self-presenting stylesheet document."""
    try:
        cda = etree.fromstring(n3)
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"the N3 is not well-formed XML: {exc}", expression=f"line {exc.lineno}") from exc
    if cda.tag != f"{{{HL7}}}ClinicalDocument":
        raise InvalidInput("a self-presenting document wraps a ClinicalDocument", expression=cda.tag)
    # Spliced as text, not re-parented in lxml: lxml would re-prefix the CDA with the stylesheet's
    # ``c:`` binding and drop its default namespace, which unprefixed ``xsi:type`` values rely on.
    xsl = _stylesheet()
    start = xsl.index(b"<xsl:stylesheet")
    end = xsl.index(b">", start) + 1
    body = bytes(etree.tostring(cda, encoding="UTF-8", xml_declaration=False))
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="#"?>\n'
            + xsl[start:end] + b'\n<data:Contenu xmlns:data="' + CONTENU.encode() + b'">' + body
            + b"</data:Contenu>" + xsl[end:])
