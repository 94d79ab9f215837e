"""Result groups -> one "FR-CR-BIO-Sous-Chapitre" section each, with its narrative and its single entry.

A group is one ``DiagnosticReport.result``: a single Observation, a battery (``hasMember``, or an
Observation whose ``component`` list holds the analytes, e.g. an antibiogram), or a microbiology
isolate (an Observation whose value is the organism and whose members are the count and the
antibiogram). The entry is the Laboratory Report Data Processing Entry act; when the results were
performed by another laboratory (``Observation.performer`` -> Organization) the act names it as
FR-Laboratoire-executant (SGL.DOC.13).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from facades.cda.writer.cdaxml import LOINC, code_el, coding_of, sub, templates, ts
from facades.cda.writer.model import CrBioInput
from facades.cda.writer.observation import Row, code, comment_act, label_of, observation
from facades.cda.writer.parties import organization
from facades.cda.writer.specimen import SpecimenRow, specimen_collection
from resources.codes import LOINC_SYSTEM, RESULT_ANSWERED

FINAL = RESULT_ANSWERED


@dataclass
class Group:
    """One result group's narrative: rows, specimens, executing lab, validation."""

    title: str
    rows: list[Row] = field(default_factory=list)
    specimens: list[SpecimenRow] = field(default_factory=list)
    performer: str | None = None
    comments: list[Row] = field(default_factory=list)


class Ids:
    """Unique narrative ids (``r1``, ``r2``…) shared by a whole document."""

    def __init__(self) -> None:
        self.count = 0

    def next(self, prefix: str = "r") -> str:
        self.count += 1
        return f"{prefix}{self.count}"


def _members(data: CrBioInput, fhir: dict[str, Any], expression: str) -> list[tuple[dict[str, Any], str]]:
    """Each member Observation with its FHIRPath (``….hasMember[i]``)."""
    return [(data.resolve(member, expression=f"{expression}.hasMember[{i}]"), f"{expression}.hasMember[{i}]")
            for i, member in enumerate(fhir.get("hasMember", []))]


def _is_isolate(fhir: dict[str, Any]) -> bool:
    return bool(fhir.get("hasMember")) and "valueCodeableConcept" in fhir


def _organizer_notes(fhir: dict[str, Any], group: Group, ref: str) -> None:
    """Notes on a battery or isolate: an organizer holds no comment, so they go on the act."""
    notes = tuple(str(n["text"]) for n in fhir.get("note", []) if n.get("text"))
    if notes:
        group.comments.append(Row(ref=ref, label=label_of(fhir.get("code")), notes=notes))


def _battery(parent: etree._Element, data: CrBioInput, fhir: dict[str, Any], group: Group, ids: Ids, *,
             when: str, expression: str, depth: int) -> None:
    """BATTERY organizer (1.3.6.1.4.1.19376.1.3.1.4): members are Observations or components."""
    organizer = sub(parent, "organizer", classCode="BATTERY", moodCode="EVN")
    templates(organizer, "1.3.6.1.4.1.19376.1.3.1.4", "1.2.250.1.213.1.1.3.78")
    ref = ids.next()
    code(organizer, fhir.get("code"), ref, expression=expression)
    group.rows.append(_marked(data, fhir, Row(ref=ref, label=label_of(fhir.get("code")), depth=depth)))
    _organizer_notes(fhir, group, ref)
    members = _members(data, fhir, expression)
    pending = [m for m, _ in members if m.get("status") not in FINAL]
    sub(organizer, "statusCode", code="active" if pending else "completed")
    for member, where in members:
        if member.get("status") in FINAL:
            _result(sub(organizer, "component"), data, member, group, ids, when=when,
                    expression=where, depth=depth + 1)
    for index, component in enumerate(fhir.get("component", [])):
        group.rows.append(observation(sub(organizer, "component"), {**component, "status": fhir.get("status")},
                                      ids.next(), when=when, expression=f"{expression}.component[{index}]",
                                      depth=depth + 1))


def _isolate(parent: etree._Element, data: CrBioInput, fhir: dict[str, Any], group: Group, ids: Ids, *,
             when: str, expression: str, depth: int) -> None:
    """CLUSTER organizer (1.3.6.1.4.1.19376.1.3.1.5): the organism, then its count and antibiogram."""
    organizer = sub(parent, "organizer", classCode="CLUSTER", moodCode="EVN")
    templates(organizer, "1.3.6.1.4.1.19376.1.3.1.5", "1.2.250.1.213.1.1.3.79")
    sub(organizer, "statusCode", code="completed")
    sub(organizer, "effectiveTime", value=when)
    role = sub(sub(organizer, "specimen", typeCode="SPC"), "specimenRole", classCode="SPEC")
    entity = sub(role, "specimenPlayingEntity", classCode="MIC")
    ref = ids.next("iso")
    organism = code_el(entity, "code", coding_of(fhir["valueCodeableConcept"], "http://snomed.info/sct"))
    organism.attrib.pop("nullFlavor", None)
    sub(sub(organism, "originalText"), "reference", value=f"#{ref}")
    group.rows.append(Row(ref=ref, label=label_of(fhir["valueCodeableConcept"]), depth=depth))
    _organizer_notes(fhir, group, ref)
    for member, where in _members(data, fhir, expression):
        if member.get("status") in FINAL:
            _result(sub(organizer, "component"), data, member, group, ids, when=when,
                    expression=where, depth=depth + 1)


def _result(parent: etree._Element, data: CrBioInput, fhir: dict[str, Any], group: Group, ids: Ids, *,
            when: str, expression: str, depth: int = 0) -> None:
    if _is_isolate(fhir):
        _isolate(parent, data, fhir, group, ids, when=when, expression=expression, depth=depth)
    elif fhir.get("hasMember") or fhir.get("component"):
        _battery(parent, data, fhir, group, ids, when=when, expression=expression, depth=depth)
    else:
        row = observation(parent, fhir, ids.next(), when=when, expression=expression, depth=depth)
        group.rows.append(_marked(data, fhir, row))


def _marked(data: CrBioInput, fhir: dict[str, Any], row: Row) -> Row:
    """The Cofrac ``*`` (SGL.DOC.10) and the "validé automatiquement" mark (SGL.DOC.09) of one line."""
    row.accredited = fhir.get("id") in data.accredited
    row.autoverified = fhir.get("id") in data.autoverified
    return row


def _performer(act: etree._Element, data: CrBioInput, fhir: dict[str, Any], expression: str) -> str | None:
    """FR-Laboratoire-executant when another lab performed the analysis (subcontracting, SGL.DOC.13)."""
    for index, reference in enumerate(fhir.get("performer", [])):
        if not str(reference.get("reference", "")).startswith("Organization/"):
            continue
        lab = data.resolve(reference, expression=f"{expression}.performer[{index}]")
        if lab.get("id") == data.laboratory.get("id"):
            return None
        performer = sub(act, "performer", typeCode="PRF")
        templates(performer, "1.3.6.1.4.1.19376.1.3.3.1.7", "1.2.250.1.213.1.1.3.23")
        issued = fhir.get("issued") or fhir.get("effectiveDateTime") or data.report.get("issued")
        sub(performer, "time", value=ts(issued, expression=f"{expression}.issued"))
        entity = sub(performer, "assignedEntity")
        sub(entity, "id", nullFlavor="UNK")
        organization(entity, "representedOrganization", lab, data.version.root, industry=True)
        return str(lab.get("name") or "")
    return None


def result_group(parent: etree._Element, data: CrBioInput, fhir: dict[str, Any], ids: Ids, *,
                 when: str, expression: str) -> Group:
    """Append the entry (Laboratory Report Data Processing Entry act) for one result group."""
    group = Group(title=label_of(fhir.get("code")))
    entry = sub(parent, "entry", typeCode="DRIV")
    templates(entry, "1.3.6.1.4.1.19376.1.3.1", "1.2.250.1.213.1.1.3.21")
    act = sub(entry, "act", classCode="ACT", moodCode="EVN")
    chapter = chapter_of(data, fhir)
    sub(act, "code", code=chapter["code"], displayName=chapter["display"], codeSystem=LOINC, codeSystemName="LOINC")
    sub(act, "statusCode", code="completed")
    group.performer = _performer(act, data, fhir, expression)
    for reference in _specimen_refs(data, fhir, expression):
        specimen = data.resolve(reference, expression=f"{expression}.specimen")
        group.specimens.append(specimen_collection(act, specimen, ids.next("spec"), local_root=data.version.root,
                                                   expression=str(reference.get("reference"))))
    _result(sub(act, "entryRelationship", typeCode="COMP"), data, fhir, group, ids, when=when, expression=expression)
    for row in group.comments:
        for index, _ in enumerate(row.notes):
            comment_act(act, f"{row.ref}-c{index}")
    return group


def _specimen_refs(data: CrBioInput, fhir: dict[str, Any], expression: str) -> list[dict[str, Any]]:
    """Distinct specimens of the group and its members, in order of appearance."""
    seen: list[str] = []
    out: list[dict[str, Any]] = []
    stack = [(fhir, expression)]
    while stack:
        current, where = stack.pop(0)
        reference = current.get("specimen")
        if reference and reference.get("reference") not in seen:
            seen.append(str(reference.get("reference")))
            out.append(reference)
        stack.extend(_members(data, current, where))
    return out


CHAPTERS = {
    "18719-5": "Biochimie", "18723-7": "Hématologie", "18725-2": "Microbiologie", "18727-8": "Sérologie",
    "18718-7": "Protéines, marqueurs tumoraux, vitamines", "18720-3": "Hémostase, coagulation",
    "18717-9": "Banque du sang", "18721-1": "Suivi thérapeutique médicamenteux", "18728-6": "Toxicologie",
    "18729-4": "Analyses urinaires", "18716-1": "Allergologie", "18722-9": "Fertilité",
    "18724-5": "HLA", "18767-4": "Gaz du sang", "26436-6": "Examens de biologie",
}


def chapter_of(data: CrBioInput, fhir: dict[str, Any]) -> dict[str, str]:
    """The chapter (LOINC specialty): the Observation's LOINC category, else the report's, else Biochimie.

    Known chapters get their French label; another LOINC category is used with its own display.
    """
    for concept in [*fhir.get("category", []), *data.report.get("category", [])]:
        coding = coding_of(concept, LOINC_SYSTEM)
        if not coding or coding.get("system") != LOINC_SYSTEM:
            continue
        code = str(coding["code"])
        if code in CHAPTERS or coding.get("display"):
            return {"code": code, "display": CHAPTERS.get(code) or str(coding["display"])}
    return {"code": "18719-5", "display": CHAPTERS["18719-5"]}

