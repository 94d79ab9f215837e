"""write_n1 (facades/cda/writer/n1.py): the PDF in a nonXMLBody, same header as the N3."""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from facades.cda import validate_cda
from facades.cda.writer import write_n1
from resources.errors import InvalidInput
from tests.support import crbio_samples as s

NS = {"c": "urn:hl7-org:v3"}


@pytest.mark.req("SGL.DOC.04")
def test_n1_embeds_the_pdf_in_base64_and_passes_the_n1_validator_SGL_DOC_04() -> None:
    xml = write_n1(s.TINY_PDF, s.crbio_input(s.biochemistry()))
    report = validate_cda(xml, level="N1")
    assert report.errors == [], [f"{e.source}: {e.message} @ {e.where()}" for e in report.errors]
    doc = etree.fromstring(xml)
    assert doc.xpath("c:templateId/@root", namespaces=NS) == [
        "2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1", "1.3.6.1.4.1.19376.1.2.20"]
    text = doc.xpath("c:component/c:nonXMLBody/c:text", namespaces=NS)[0]
    assert text.get("mediaType") == "application/pdf" and text.get("representation") == "B64"
    assert base64.b64decode(text.text) == s.TINY_PDF
    assert not doc.xpath("//c:structuredBody", namespaces=NS)


@pytest.mark.req("SGL.DOC.04")
def test_n1_header_matches_the_n3_header_SGL_DOC_04() -> None:
    data = s.crbio_input(s.biochemistry())
    doc = etree.fromstring(write_n1(s.TINY_PDF, data))
    assert doc.xpath("c:recordTarget/c:patientRole/c:id/@extension", namespaces=NS)[0] == "279035121518989"
    assert doc.xpath("c:setId/@extension", namespaces=NS) == ["set-1"]
    assert len(doc.xpath("c:informationRecipient", namespaces=NS)) == 4


def test_n1_refuses_a_body_that_is_not_a_pdf() -> None:
    with pytest.raises(InvalidInput) as caught:
        write_n1(b"<html>not a pdf</html>", s.crbio_input(s.biochemistry()))
    assert caught.value.expression == ["pdf"]
