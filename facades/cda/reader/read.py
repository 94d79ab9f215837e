"""``read_crbio``: a subcontractor's CR-Bio (N3, N1, self-presenting) or PDF -> FHIR resources to integrate.

The results are read from the entries, not from the narrative: Laboratory Observations
(1.3.6.1.4.1.19376.1.3.1.6), batteries (…1.3.1.4) and isolates (…1.3.1.5) under each result act,
each attributed to its executing lab (act-level FR-Laboratoire-executant, else the header's
serviceEvent performer, else the custodian) and to its specimen (FR-Prelevement). SGL.DOC.13/18/22.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from lxml import etree

from facades.cda.reader.identity import read_patient
from facades.cda.reader.model import Resource, SubcontractedReport
from facades.cda.reader.values import (
    HL7,
    NS,
    address,
    concept,
    date_time,
    find,
    identifier,
    reference_range,
    resolved_text,
    telecom,
    text_of,
    value,
    where,
)
from resources.codes import LAB_REPORT_LOINC, LOINC_SYSTEM
from resources.errors import InvalidInput
from resources.outside_xml import parse_outside_xml

CR_BIO = LAB_REPORT_LOINC
LAB_OBSERVATION = "1.3.6.1.4.1.19376.1.3.1.6"
BATTERY = "1.3.6.1.4.1.19376.1.3.1.4"
ISOLATE = "1.3.6.1.4.1.19376.1.3.1.5"
PDF_COPY = "1.2.250.1.213.1.1.2.243"
ISOLATE_CODE = {"coding": [{"system": LOINC_SYSTEM, "code": "11475-1", "display": "Micro-organisme identifié"}]}
STATUS = {"completed": "final", "aborted": "cancelled", "active": "preliminary"}


def _templates(node: etree._Element) -> set[str]:
    return {str(t) for t in node.xpath("c:templateId/@root", namespaces=NS)}


def _clinical_document(document: bytes) -> etree._Element:
    try:
        root = parse_outside_xml(document)
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"not a CR-Bio: neither a PDF nor well-formed XML ({exc.msg})",
                           expression=f"line {exc.lineno}") from exc
    if root.tag == f"{{{HL7}}}ClinicalDocument":
        return root
    nested = root.xpath("//c:ClinicalDocument", namespaces=NS)
    if not nested:
        raise InvalidInput(f"not a CR-Bio: no ClinicalDocument in <{etree.QName(root).localname}>",
                           expression=etree.QName(root).localname)
    first: etree._Element = nested[0]
    return first


def _pdf(node: etree._Element) -> bytes:
    try:
        data = base64.b64decode("".join((node.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("embedded document is not valid base64", expression=where(node)) from None
    if not data.startswith(b"%PDF-"):
        raise InvalidInput("embedded document is not a PDF", expression=where(node))
    return data


class _Reader:
    """One document's walk: narrative ids, organizations and specimens met so far, observations."""

    def __init__(self, cda: etree._Element) -> None:
        self.cda = cda
        self.narrative = {str(n.get("ID")): " ".join("".join(n.itertext()).split())
                          for n in cda.iter() if isinstance(n.tag, str) and n.get("ID")}
        self.organizations: dict[tuple[str, str], Resource] = {}
        self.specimens: list[Resource] = []
        self.observations: list[Resource] = []
        header_lab = find(cda, "c:documentationOf[1]/c:serviceEvent/c:performer/c:assignedEntity/"
                               "c:representedOrganization")
        if header_lab is None:
            header_lab = find(cda, "c:custodian/c:assignedCustodian/c:representedCustodianOrganization")
        self.default_lab = self.organization(header_lab) if header_lab is not None else None

    def organization(self, node: etree._Element) -> str:
        ident = find(node, "c:id")
        key = (str(ident.get("root", "")), str(ident.get("extension", ""))) if ident is not None else ("", "")
        if key not in self.organizations or key == ("", ""):
            org: Resource = {"resourceType": "Organization", "id": f"cda-org-{len(self.organizations) + 1}",
                             "name": text_of(node, "c:name/text()") or "Laboratoire exécutant"}
            if ident is not None and ident.get("root"):
                org["identifier"] = [identifier(ident)]
            org["telecom"] = telecom(node.xpath("c:telecom", namespaces=NS))
            org["address"] = address(find(node, "c:addr"))
            self.organizations[key] = {k: v for k, v in org.items() if v}
        return f"Organization/{self.organizations[key]['id']}"

    def specimen(self, procedure: etree._Element) -> str:
        spec: Resource = {"resourceType": "Specimen", "id": f"cda-spec-{len(self.specimens) + 1}"}
        kind = concept(find(procedure, "c:participant/c:participantRole/c:playingEntity/c:code"), self.narrative)
        if kind:
            spec["type"] = kind
        accession = find(procedure, "c:participant/c:participantRole/c:id")
        if accession is not None and accession.get("extension"):
            spec["accessionIdentifier"] = identifier(accession)
        collected = find(procedure, "c:effectiveTime")
        if collected is not None:
            moment = collected.get("value") or text_of(collected, "c:high/@value") or text_of(collected, "c:low/@value")
            if moment:
                spec["collection"] = {"collectedDateTime": date_time(moment, collected)}
        received = find(procedure, "c:entryRelationship/c:act[c:code/@code='SPRECEIVE']/c:effectiveTime")
        if received is not None and received.get("value"):
            spec["receivedTime"] = date_time(received.get("value"), received)
        self.specimens.append(spec)
        return f"Specimen/{spec['id']}"

    def act(self, act: etree._Element, chapter: dict[str, Any] | None) -> None:
        lab_node = find(act, "c:performer/c:assignedEntity/c:representedOrganization")
        context: Resource = {}
        lab = self.organization(lab_node) if lab_node is not None else self.default_lab
        if lab:
            context["performer"] = [{"reference": lab}]
        if chapter:
            context["category"] = [chapter]
        specimens = [self.specimen(p) for p in act.xpath("c:entryRelationship/c:procedure", namespaces=NS)]
        if specimens:
            context["specimen"] = {"reference": specimens[0]}
        notes = self.notes(act)
        found = [self.result(n, context) for n in act.xpath("c:entryRelationship/c:observation | "
                                                             "c:entryRelationship/c:organizer", namespaces=NS)]
        tops = [t for t in found if t]
        if notes and tops:
            first = next(o for o in self.observations if o["id"] == tops[0].removeprefix("Observation/"))
            first.setdefault("note", []).extend(notes)

    def notes(self, node: etree._Element) -> list[dict[str, str]]:
        out = []
        for comment in node.xpath("c:entryRelationship[@typeCode='SUBJ']/c:act[c:code/@code='48767-8']",
                                  namespaces=NS):
            text = resolved_text(find(comment, "c:text"), self.narrative)
            if text:
                out.append({"text": text})
        return out

    def result(self, node: etree._Element, context: Resource) -> str | None:
        """An Observation for an observation or organizer; its reference, None for other entries."""
        templates = _templates(node)
        local = etree.QName(node).localname
        if local == "observation" and LAB_OBSERVATION not in templates:
            return None
        if local == "organizer" and not templates & {BATTERY, ISOLATE}:
            return None
        obs: Resource = {"resourceType": "Observation", "id": f"cda-obs-{len(self.observations) + 1}"}
        self.observations.append(obs)
        status = text_of(node, "c:statusCode/@code") or "completed"
        obs["status"] = STATUS.get(status, "final")
        obs.update({k: v for k, v in context.items() if k != "specimen"})
        if ISOLATE in templates:
            obs["code"] = ISOLATE_CODE
            organism = concept(find(node, "c:specimen/c:specimenRole/c:specimenPlayingEntity/c:code"), self.narrative)
            if organism:
                obs["valueCodeableConcept"] = organism
        else:
            obs["code"] = concept(find(node, "c:code"), self.narrative) or {"text": "Résultat"}
        effective = find(node, "c:effectiveTime")
        if effective is not None and effective.get("value"):
            obs["effectiveDateTime"] = date_time(effective.get("value"), effective)
        if "specimen" in context:
            obs["specimen"] = context["specimen"]
        if local == "observation":
            obs.update(value(node, self.narrative))
            flags = [concept(f, self.narrative) for f in node.xpath("c:interpretationCode", namespaces=NS)]
            if any(flags):
                obs["interpretation"] = [f for f in flags if f]
            ranges = reference_range(node, self.narrative)
            if ranges:
                obs["referenceRange"] = ranges
            notes = self.notes(node)
            if notes:
                obs["note"] = notes
            return f"Observation/{obs['id']}"
        members = [self.result(m, context) for m in node.xpath("c:component/c:observation | c:component/c:organizer",
                                                                namespaces=NS)]
        obs["hasMember"] = [{"reference": m} for m in members if m]
        return f"Observation/{obs['id']}"


def read_crbio(document: bytes) -> SubcontractedReport:
    """Read a CR-Bio N3/N1 (plain or self-presenting) or a PDF; ``InvalidInput`` names the spot otherwise."""
    if document.lstrip()[:5] == b"%PDF-":
        return SubcontractedReport(level="PDF", pdf=document.lstrip())
    cda = _clinical_document(document)
    code = find(cda, "c:code")
    if code is None or code.get("code") != CR_BIO:
        found = code.get("code") if code is not None else "none"
        raise InvalidInput(f"not a CR-Bio: document code {found}, expected LOINC {CR_BIO}",
                           expression=where(code if code is not None else cda))
    ident, set_id, number = find(cda, "c:id"), find(cda, "c:setId"), text_of(cda, "c:versionNumber/@value")
    header: dict[str, Any] = {
        "document_id": ident.get("extension") or ident.get("root") if ident is not None else None,
        "set_id": set_id.get("extension") or set_id.get("root") if set_id is not None else None,
        "version": int(number) if number and number.isdigit() else None,
        "order_number": text_of(cda, "c:inFulfillmentOf/c:order/c:id/@extension"),
        "patient_identifiers": tuple(identifier(i) for i in cda.xpath("c:recordTarget/c:patientRole/c:id",
                                                                       namespaces=NS)),
        "patient": read_patient(cda),
    }
    body = find(cda, "c:component/c:nonXMLBody/c:text")
    if body is not None:
        return SubcontractedReport(level="N1", pdf=_pdf(body), **header)
    if find(cda, "c:component/c:structuredBody") is None:
        raise InvalidInput("CR-Bio without body", expression=where(cda))
    reader = _Reader(cda)
    for section in cda.xpath("c:component/c:structuredBody/c:component/c:section", namespaces=NS):
        chapter = concept(find(section, "c:code"), {})
        for act in section.xpath(".//c:entry/c:act", namespaces=NS):
            reader.act(act, chapter)
    copy, attachments = None, []
    for media in cda.xpath("//c:observationMedia/c:value[@mediaType='application/pdf']", namespaces=NS):
        in_copy = bool(media.xpath(f"ancestor::c:section[c:templateId/@root='{PDF_COPY}']", namespaces=NS))
        if in_copy and copy is None:
            copy = _pdf(media)
        else:
            attachments.append(_pdf(media))
    return SubcontractedReport(level="N3", observations=tuple(reader.observations),
                               specimens=tuple(reader.specimens),
                               organizations=tuple(reader.organizations.values()),
                               pdf=copy or (attachments[0] if attachments else None),
                               attachments=tuple(attachments), **header)
