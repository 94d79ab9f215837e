"""``structuredBody``: one FR-CR-BIO-Chapitre section per speciality, the conclusion, attached PDFs.

Chapters come in the order of their first result; each result group is a FR-CR-BIO-Sous-Chapitre
subsection (LOINC code, narrative, exactly one entry), which is also where a subcontracted group
names its executing laboratory.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from facades.cda.writer.attachments import pdf_copy, subcontracted_pdf_section
from facades.cda.writer.cdaxml import LOINC, coding_of, sub, templates, ts
from facades.cda.writer.mentions import comment_section
from facades.cda.writer.model import CrBioInput
from facades.cda.writer.narrative import group_text
from facades.cda.writer.observation import Row
from facades.cda.writer.results import FINAL, Ids, chapter_of, result_group
from resources.codes import LOINC_SYSTEM
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
    rows: list[Row] = []
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
            coding = coding_of(fhir.get("code"), LOINC_SYSTEM) or {}
            if coding.get("system") == LOINC_SYSTEM:
                _loinc(subsection, str(coding["code"]), str(coding.get("display") or chapter["display"]))
            else:
                _loinc(subsection, chapter["code"], chapter["display"])
            title = sub(subsection, "title")
            text_at = len(subsection)
            group = result_group(subsection, data, fhir, ids, when=when, expression=expression)
            title.text = group.title
            rows += group.rows
            holder = etree.Element("holder")
            group_text(holder, group)
            subsection.insert(text_at, holder[0])
    comment_section(body, data, rows)
    for index, report in enumerate(data.subcontracted_pdfs):
        subcontracted_pdf_section(body, report, index)
    pdf_copy(body, data.pdf)
