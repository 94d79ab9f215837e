"""``structuredBody``: one FR-CR-BIO-Chapitre section per speciality, the conclusion, the PDF copy.

Chapters come in the order of their first result; each result group is a FR-CR-BIO-Sous-Chapitre
subsection (LOINC code, narrative, exactly one entry), which is also where a subcontracted group
names its executing laboratory.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from lxml import etree

from facades.cda.writer.cdaxml import LOINC, coding_of, sub, templates, ts
from facades.cda.writer.model import CrBioInput
from facades.cda.writer.narrative import group_text
from facades.cda.writer.results import FINAL, Ids, chapter_of, result_group
from resources.errors import InvalidInput


def _loinc(parent: etree._Element, code: str, display: str) -> None:
    sub(parent, "code", code=code, displayName=display, codeSystem=LOINC, codeSystemName="LOINC")


def top_results(data: CrBioInput) -> list[tuple[dict[str, Any], str]]:
    """The report's validated results with their FHIRPath, in report order."""
    out = []
    for index, reference in enumerate(data.report.get("result", [])):
        expression = f"DiagnosticReport.result[{index}]"
        fhir = data.resolve(reference, expression=expression)
        if fhir.get("status") in FINAL:
            out.append((fhir, expression))
    return out


def chapters(data: CrBioInput) -> list[dict[str, str]]:
    """The distinct chapters of the validated results, in order (the header lists them too)."""
    seen: dict[str, dict[str, str]] = {}
    for fhir, _ in top_results(data):
        chapter = chapter_of(data, fhir)
        seen.setdefault(chapter["code"], chapter)
    return list(seen.values())


def structured_body(doc: etree._Element, data: CrBioInput) -> None:
    """Append ``component/structuredBody`` with every section."""
    body = sub(sub(doc, "component"), "structuredBody")
    results = top_results(data)
    if not results:
        raise InvalidInput("the report has no validated result to put in a CR-Bio",
                           expression="DiagnosticReport.result")
    when = ts(data.report.get("effectiveDateTime") or data.report.get("issued"),
              expression="DiagnosticReport.effectiveDateTime")
    ids = Ids()
    for chapter in chapters(data):
        section = sub(sub(body, "component"), "section")
        templates(section, "1.3.6.1.4.1.19376.1.3.3.2.1", "1.2.250.1.213.1.1.2.70")
        _loinc(section, chapter["code"], chapter["display"])
        sub(section, "title", chapter["display"].upper())
        for fhir, expression in results:
            if chapter_of(data, fhir)["code"] != chapter["code"]:
                continue
            subsection = sub(sub(section, "component"), "section")
            templates(subsection, "1.3.6.1.4.1.19376.1.3.3.2.2", "1.2.250.1.213.1.1.2.71")
            coding = coding_of(fhir.get("code"), "http://loinc.org") or {}
            if coding.get("system") == "http://loinc.org":
                _loinc(subsection, str(coding["code"]), str(coding.get("display") or chapter["display"]))
            else:
                _loinc(subsection, chapter["code"], chapter["display"])
            title = sub(subsection, "title")
            text_at = len(subsection)
            group = result_group(subsection, data, fhir, ids, when=when, expression=expression)
            title.text = group.title
            holder = etree.Element("holder")
            group_text(holder, group)
            subsection.insert(text_at, holder[0])
    if data.report.get("conclusion"):
        _conclusion(body, str(data.report["conclusion"]))
    pdf_copy(body, data.pdf)


def _conclusion(body: etree._Element, conclusion: str) -> None:
    """FR-Commentaire-non-code section for the biologist's conclusion on the whole report."""
    section = sub(sub(body, "component"), "section")
    templates(section, "2.16.840.1.113883.10.12.201", "1.3.6.1.4.1.19376.1.4.1.2.16", "1.2.250.1.213.1.1.2.73")
    _loinc(section, "55112-7", "Commentaire")
    sub(section, "title", "Conclusion")
    sub(sub(section, "text"), "paragraph", conclusion)


def pdf_copy(body: etree._Element, pdf: bytes | None) -> None:
    """FR-Document-PDF-copie (1.2.250.1.213.1.1.2.243), mandatory in CR-BIO 2024.01: the PDF in base64."""
    if not pdf or not pdf.startswith(b"%PDF-"):
        raise InvalidInput("the CR-Bio N3 needs the PDF copy of the report (bytes starting with %PDF-)",
                           expression="CrBioInput.pdf")
    section = sub(sub(body, "component"), "section")
    templates(section, "1.2.250.1.213.1.1.2.243")
    sub(section, "id", root=str(uuid.uuid4()).upper())
    _loinc(section, "55108-5", "Copie du document")
    sub(section, "title", "Copie du document")
    row = sub(sub(sub(sub(section, "text"), "table", border="0"), "tbody"), "tr")
    cell = sub(row, "td")
    sub(cell, "content", "Copie PDF du compte rendu", ID="pdf-copie-titre")
    sub(cell, "renderMultiMedia", referencedObject="pdf-copie")
    organizer = sub(sub(section, "entry"), "organizer", classCode="CLUSTER", moodCode="EVN")
    templates(organizer, "1.2.250.1.213.1.1.3.18")
    sub(organizer, "id", root=str(uuid.uuid4()).upper())
    _loinc(organizer, "55107-7", "Document attaché")
    sub(organizer, "statusCode", code="completed")
    kind = sub(sub(organizer, "component"), "observation", classCode="OBS", moodCode="EVN")
    templates(kind, "1.3.6.1.4.1.19376.1.5.3.1.4.13", "1.2.250.1.213.1.1.3.48", "1.2.250.1.213.1.1.3.48.18")
    sub(kind, "id", root=str(uuid.uuid4()).upper())
    _loinc(kind, "69764-9", "Type de document")
    sub(sub(kind, "text"), "reference", value="#pdf-copie-titre")
    sub(kind, "statusCode", code="completed")
    sub(kind, "effectiveTime", nullFlavor="NA")
    sub(kind, "value", xsi_type="CD", code="55108-5", displayName="Copie du document", codeSystem=LOINC,
        codeSystemName="LOINC")
    media = sub(sub(organizer, "component"), "observationMedia", classCode="OBS", moodCode="EVN", ID="pdf-copie")
    sub(media, "value", base64.b64encode(pdf).decode("ascii"), mediaType="application/pdf", representation="B64")
