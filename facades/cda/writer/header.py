"""The CR-Bio header, shared by N3 and N1: identity of the document, patient, people, order, service event.

Order of elements is the CDA R2 schema's. ``level`` only changes the document template ids: N3
declares the IHE XD-LAB and CI-SIS CR-BIO models, N1 the IHE XDS-SD one (Structuration minimale rule).
"""

from __future__ import annotations

from typing import Literal

from lxml import etree

from facades.cda.writer.cdaxml import LOINC, addr_el, el, name_el, sub, telecom_els, templates, ts
from facades.cda.writer.model import CrBioInput, Party
from facades.cda.writer.parties import assigned_entity, intended_recipient, organization, organization_id, person_id
from facades.cda.writer.patient import record_target
from resources.codes import LAB_REPORT_DISPLAY_FR, LAB_REPORT_LOINC, RESULT_FINAL
from resources.errors import InvalidInput

Level = Literal["N3", "N1"]
CONFIDENTIALITY = {"N": "Normal", "R": "Restreint", "V": "Très restreint"}
TEMPLATES = {
    "N3": ("2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1", "1.3.6.1.4.1.19376.1.3.3", "1.2.250.1.213.1.1.1.55"),
    "N1": ("2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1", "1.3.6.1.4.1.19376.1.2.20"),
}
STATUS_DOCUMENTED = RESULT_FINAL
STATUS = {"partial": "active", "preliminary": "active", "registered": "active", "final": "completed",
          "corrected": "completed", "amended": "completed", "appended": "completed"}


def _issued(data: CrBioInput) -> str:
    issued = data.report.get("issued")
    if not issued:
        raise InvalidInput("a CR-Bio needs the validation time of the report", expression="DiagnosticReport.issued")
    return ts(issued, expression="DiagnosticReport.issued")


def clinical_document(data: CrBioInput, level: Level, chapters: list[dict[str, str]]) -> etree._Element:
    """A ``ClinicalDocument`` with the full header; the caller appends the body."""
    if data.confidentiality not in CONFIDENTIALITY:
        raise InvalidInput(f"confidentiality {data.confidentiality!r} is not one of N, R, V",
                           expression="CrBioInput.confidentiality")
    if data.report.get("status") not in STATUS:
        raise InvalidInput(f"a report in status {data.report.get('status')!r} cannot be published",
                           expression="DiagnosticReport.status")
    issued = _issued(data)
    root = data.version.root
    doc = el("ClinicalDocument")
    sub(doc, "realmCode", code="FR")
    sub(doc, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    templates(doc, *TEMPLATES[level])
    if level == "N3":
        doc[-1].set("extension", "2024.01")
    sub(doc, "id", root=root, extension=data.version.document_id)
    sub(doc, "code", code=LAB_REPORT_LOINC, displayName=LAB_REPORT_DISPLAY_FR, codeSystem=LOINC, codeSystemName="LOINC")
    sub(doc, "title", "Compte rendu d'examens biologiques")
    sub(doc, "effectiveTime", value=issued)
    sub(doc, "confidentialityCode", code=data.confidentiality, displayName=CONFIDENTIALITY[data.confidentiality],
        codeSystem="2.16.840.1.113883.5.25")
    sub(doc, "languageCode", code="fr-FR")
    sub(doc, "setId", root=root, extension=data.version.set_id)
    sub(doc, "versionNumber", value=str(data.version.number))
    record_target(doc, data.patient, root, data.identifier_oids)
    author = sub(doc, "author")
    sub(author, "time", value=issued)
    assigned_entity(author, _with_lab(data.biologist, data), root, tag="assignedAuthor")
    custodian = sub(sub(doc, "custodian"), "assignedCustodian")
    organization(custodian, "representedCustodianOrganization", data.laboratory, root)
    for recipient in data.recipients:
        intended_recipient(doc, recipient, root)
    legal = sub(doc, "legalAuthenticator")
    sub(legal, "time", value=issued)
    sub(legal, "signatureCode", code="S")
    assigned_entity(legal, _with_lab(data.biologist, data), root, industry=True)
    _prescriber(doc, data)
    _order(doc, data)
    _service_events(doc, data, chapters, issued)
    if data.version.replaces:
        parent = sub(sub(doc, "relatedDocument", typeCode="RPLC"), "parentDocument")
        sub(parent, "id", root=root, extension=data.version.replaces)
    _encounter(doc, data)
    return doc


def _with_lab(party: Party, data: CrBioInput) -> Party:
    return Party(party.practitioner, party.role, party.organization or data.laboratory)


def _prescriber(doc: etree._Element, data: CrBioInput) -> None:
    """participant REF (1.3.6.1.4.1.19376.1.3.3.1.6): the requester, with the MSSanté address (SGL.DOC.11)."""
    participant = sub(doc, "participant", typeCode="REF")
    templates(participant, "1.3.6.1.4.1.19376.1.3.3.1.6")
    authored = (data.service_request or {}).get("authoredOn")
    time = sub(participant, "time", xsi_type="IVL_TS")
    if authored:
        sub(time, "high", value=ts(authored, expression="ServiceRequest.authoredOn"))
    else:
        time.set("nullFlavor", "UNK")
    requester = data.requester
    entity = sub(participant, "associatedEntity", classCode="PROV")
    person_id(entity, requester.practitioner, data.version.root)
    addresses = (requester.role or {}).get("address") or requester.practitioner.get("address") or []
    addr_el(entity, addresses[0] if addresses else None)
    telecom_els(entity, requester.telecom)
    name_el(sub(entity, "associatedPerson"), (requester.practitioner.get("name") or [None])[0])
    if requester.organization:
        scoping = sub(entity, "scopingOrganization")
        organization_id(scoping, requester.organization, data.version.root)
        sub(scoping, "name", str(requester.organization.get("name") or ""))


def _order(doc: etree._Element, data: CrBioInput) -> None:
    """inFulfillmentOf/order/id: the lab's request number (ServiceRequest.requisition)."""
    request = data.service_request or {}
    number = (request.get("requisition") or {}).get("value") or request.get("id")
    if number:
        sub(sub(sub(doc, "inFulfillmentOf"), "order"), "id", root=f"{data.version.root}.2", extension=str(number))


def _service_events(doc: etree._Element, data: CrBioInput, chapters: list[dict[str, str]], issued: str) -> None:
    """The main serviceEvent (request, status, period, executing lab) then one per further chapter."""
    for index, chapter in enumerate(chapters):
        event = sub(sub(doc, "documentationOf"), "serviceEvent")
        if index == 0:
            number = ((data.service_request or {}).get("requisition") or {}).get("value") or data.report.get("id")
            sub(event, "id", root=f"{data.version.root}.2", extension=str(number))
        sub(event, "code", code=chapter["code"], displayName=chapter["display"], codeSystem=LOINC,
            codeSystemName="LOINC")
        if index:
            continue
        sub(event, "lab:statusCode", code=STATUS[str(data.report["status"])])
        period = sub(event, "effectiveTime")
        start = _first_reception(data)
        sub(period, "low", value=start or issued)
        sub(period, "high", value=issued)
        performer = sub(event, "performer", typeCode="PRF")
        templates(performer, "1.3.6.1.4.1.19376.1.3.3.1.7")
        sub(sub(performer, "time"), "high", value=issued)
        assigned_entity(performer, _with_lab(data.biologist, data), data.version.root, industry=True)


def _first_reception(data: CrBioInput) -> str | None:
    times = sorted(ts(s["receivedTime"], expression=f"Specimen/{s.get('id')}.receivedTime")
                   for s in data.specimens if s.get("receivedTime"))
    return times[0] if times else None


def _encounter(doc: etree._Element, data: CrBioInput) -> None:
    """componentOf: the lab encounter, its responsible biologist and the lab as health care facility."""
    encounter = sub(sub(doc, "componentOf"), "encompassingEncounter")
    encounter_id = data.report.get("id") or data.version.document_id
    sub(encounter, "id", root=f"{data.version.root}.3", extension=str(encounter_id))
    sub(encounter, "code", code="AMB", displayName="ambulatoire", codeSystem="2.16.840.1.113883.5.4")
    period = sub(encounter, "effectiveTime")
    start = _first_reception(data)
    sub(period, "low", value=start or _issued(data))
    responsible = sub(encounter, "responsibleParty")
    # The lab's COFRAC accreditation id only when an accredited result is documented (SGL.DOC.10: else no mention)
    accredited = any(o.get("id") in data.accredited and o.get("status") in STATUS_DOCUMENTED for o in data.observations)
    assigned_entity(responsible, _with_lab(data.biologist, data), data.version.root, extra_ids=accredited)
    facility = sub(sub(encounter, "location"), "healthCareFacility")
    sub(facility, "code", code="SA25", displayName="Laboratoire de biologie médicale", codeSystem="1.2.250.1.71.4.2.4")
    place = sub(facility, "location")
    sub(place, "name", str(data.laboratory.get("name") or "Laboratoire"))
    addresses = data.laboratory.get("address") or []
    addr_el(place, addresses[0] if addresses else None)
