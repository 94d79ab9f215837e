"""Lifting the ClinicalDocument out of a wrapper (facades/cda/conformance/extract.py)."""

from __future__ import annotations

import pytest
from lxml import etree

from facades.cda.conformance.extract import CLINICAL_DOCUMENT, extract_clinical_document
from facades.cda.conformance.kit import default_kit
from facades.cda.errors import NotACda

WRAPPED = b"""<?xml version="1.0"?>
<?xml-stylesheet type="text/xsl" href="#"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:data="urn:asip-sante:ci-sis" xmlns:c="urn:hl7-org:v3"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <data:Contenu>
    <c:ClinicalDocument>
      <c:effectiveTime xsi:type="c:IVL_TS"/>
    </c:ClinicalDocument>
  </data:Contenu>
</xsl:stylesheet>"""


def test_plain_clinical_document_is_returned_as_is() -> None:
    extracted = extract_clinical_document(b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>")
    assert extracted.wrapper is None
    assert extracted.tree.getroot().tag == CLINICAL_DOCUMENT


def test_wrapped_document_keeps_prefixes_used_only_inside_attribute_values() -> None:
    extracted = extract_clinical_document(WRAPPED)
    assert extracted.wrapper == "stylesheet"
    reparsed = etree.fromstring(extracted.serialize())
    assert reparsed.tag == CLINICAL_DOCUMENT
    assert reparsed.nsmap["c"] == "urn:hl7-org:v3"  # so xsi:type="c:IVL_TS" still resolves
    time = reparsed[0]
    assert time.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "c:IVL_TS"


def test_lifted_elements_keep_their_original_line_numbers() -> None:
    extracted = extract_clinical_document(WRAPPED)
    assert extracted.tree.getroot().sourceline == 7
    assert extracted.tree.getroot()[0].sourceline == 8


def test_ans_auto_presentable_example_yields_its_cda() -> None:
    path = default_kit().root / "ExemplesCDA" / "BIO-CR-BIO_2021.01_Auto-Presentable_avec-image.xml"
    extracted = extract_clinical_document(path.read_bytes())
    assert extracted.wrapper == "stylesheet"
    root = extracted.tree.getroot()
    assert root.findtext("{urn:hl7-org:v3}title") == "Compte rendu d'examens biologiques"


def test_entity_expansion_is_not_performed() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>
    <ClinicalDocument xmlns="urn:hl7-org:v3"><title>&e;</title></ClinicalDocument>"""
    with pytest.raises(NotACda, match="DTD") as caught:  # a DTD is refused outright (resources/outside_xml.py)
        extract_clinical_document(bomb)
    assert "root:" not in caught.value.diagnostics


def test_empty_input_is_not_a_cda() -> None:
    with pytest.raises(NotACda):
        extract_clinical_document(b"")
