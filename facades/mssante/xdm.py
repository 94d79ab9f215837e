"""``IHE_XDM.ZIP``: the CR-Bio packaged as an IHE XDM media (ITI-32) for MSSanté (CI-SIS, ECO.2.1).

Layout of the zip (ITI TF-1 §16 / TF-3 §4.2.4)::

    INDEX.HTM                         what the media holds, readable by a person
    README.TXT                        who made it and with what software
    IHE_XDM/SUBSET01/METADATA.XML     ebRIM 3.0 SubmitObjectsRequest: a SubmissionSet, one
                                      DocumentEntry per document (with the XDM-only ``URI`` slot
                                      naming the file), the HasMember association
    IHE_XDM/SUBSET01/DOC0001.XML      the CDA N3

The metadata is read from the CDA header itself (:mod:`facades.mssante.cda_header`), so the
DocumentEntry and the document never disagree: typeCode (``code``), confidentialityCode,
healthcareFacilityTypeCode (``healthCareFacility/code``) and practiceSettingCode (the performer's
``standardIndustryClassCode``), as ANS's CDA-to-XDM mapping does; classCode, formatCode and the
submission set's contentTypeCode are the CR-Bio's fixed values below (tested against the ANS value sets of
``shared/kits`` where the kit has them).
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from lxml import etree

from facades.mssante.cda_header import CdaHeader, Coded, read_header

XDM_NAME = "IHE_XDM.ZIP"
SUBSET = "IHE_XDM/SUBSET01"
DOC_NAME = "DOC0001.XML"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
STABLE_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
SUBMISSION_SET = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
"""The IHE XDSSubmissionSet classification node (ITI TF-3 4.2.5.1)."""
ENTRY_SCHEMES = {
    "author": "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d",
    "classCode": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "confidentialityCode": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "formatCode": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "healthcareFacilityTypeCode": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "practiceSettingCode": "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "typeCode": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "patientId": "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
    "uniqueId": "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
}
SET_SCHEMES = {
    "author": "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d",
    "contentTypeCode": "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
    "uniqueId": "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
    "sourceId": "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
    "patientId": "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
}
CR_BIO_FORMAT = Coded("urn:ihe:lab:xd-lab:2008", "1.3.6.1.4.1.19376.1.2.3",
                      "Compte rendu structuré d'examens de biologie médicale")
"""JDV_J10-XdsFormatCode-CISIS (TRE_A11), the N3 CR-Bio: ``shared/reference/transports-and-dependencies.md`` A1.4."""
CLASS_REPORT = Coded("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")
"""TRE_A03-ClasseDocument: ``10`` is "Compte rendu" (``11`` is "Synthèse"), the class of a LOINC 11502-2 report."""
FACILITY_LAB = Coded("SA25", "1.2.250.1.71.4.2.4", "Laboratoire de biologie médicale")
"""JDV_J02 (TRE_R02-SecteurActivite): used when the CDA names no ``healthCareFacility/code``."""
PRACTICE_AMBULATORY = Coded("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire")
"""JDV_J04 (TRE_A01-CadreExercice): used when the CDA's organisation has no ``standardIndustryClassCode``."""
CONTENT_TYPE = Coded("07", "1.2.250.1.213.2.2", "Consultation externe")
"""TRE_R209-TypeActivite (JDV_J03/J59): an outpatient lab visit (HL7 v2 PV1-2 ``O`` maps to ``07``)."""


@dataclass(frozen=True)
class XdmSource:
    """Who makes the media: the lab (``source_oid`` = its OID root) and the software."""

    source_oid: str
    organisation: str
    contact: str
    software: str = "OpenSGL"


def _xds_time(value: str) -> str:
    """CDA ``YYYYMMDDhhmmss[+zzzz]`` -> XDS UTC ``YYYYMMDDhhmmss`` (date-only values kept as they are)."""
    if len(value) >= 19 and value[14] in "+-":
        moment = datetime.strptime(value[:19], "%Y%m%d%H%M%S%z")
        return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    return value[:14]


def _cx(ident: tuple[str, str]) -> str:
    return f"{ident[1]}^^^&{ident[0]}&ISO"


def _el(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{RIM}}}{tag}", attrs)


def _slot(parent: etree._Element, name: str, *values: str) -> None:
    slot = _el(parent, "Slot", name=name)
    listing = _el(slot, "ValueList")
    for value in values:
        _el(listing, "Value").text = value


def _name(parent: etree._Element, text: str) -> None:
    lang = {"{http://www.w3.org/XML/1998/namespace}lang": "fr-FR"}
    _el(_el(parent, "Name"), "LocalizedString", value=text, charset="UTF-8", **lang)


def _classify(parent: etree._Element, scheme: str, coded: Coded) -> None:
    node = _el(parent, "Classification", id=f"urn:uuid:{uuid.uuid4()}", classificationScheme=scheme,
               classifiedObject=parent.get("id", ""), nodeRepresentation=coded.code, objectType=(
                   "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification"))
    _slot(node, "codingScheme", coded.system)
    _name(node, coded.display or coded.code)


def _identify(parent: etree._Element, scheme: str, value: str, label: str) -> None:
    node = _el(parent, "ExternalIdentifier", id=f"urn:uuid:{uuid.uuid4()}", identificationScheme=scheme,
               registryObject=parent.get("id", ""), value=value,
               objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier")
    _name(node, label)


def _author(parent: etree._Element, scheme: str, head: CdaHeader) -> None:
    node = _el(parent, "Classification", id=f"urn:uuid:{uuid.uuid4()}", classificationScheme=scheme,
               classifiedObject=parent.get("id", ""), nodeRepresentation="")
    author_id = head.author_ids[0] if head.author_ids else ("", "")
    _slot(node, "authorPerson", f"{author_id[1]}^{head.author_name}^^^^^^^&{author_id[0]}&ISO")
    org_id = head.organisation_id
    _slot(node, "authorInstitution", f"{head.organisation_name}^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{org_id[1]}")


def submission_unique_id(source_oid: str, message_id: str) -> str:
    """The XDSSubmissionSet.uniqueId of the mail ``message_id``: an OID under the lab's root derived from the
    Message-ID (128 bits, as a UUID's), so a resend of the same mail (same Message-ID) carries the same submission
    set, which a recipient importing the XDM recognises, and two different mails never share one."""
    return f"{source_oid}.{int(hashlib.sha256(message_id.encode('utf-8')).hexdigest()[:32], 16)}"


def metadata(head: CdaHeader, document: bytes, source: XdmSource, *, submitted: datetime | None = None,
             submission_id: str | None = None) -> bytes:
    """The ``METADATA.XML`` of one CDA document."""
    request = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM})
    objects = _el(request, "RegistryObjectList")
    entry = _el(objects, "ExtrinsicObject", id="Document01", mimeType="text/xml", objectType=STABLE_ENTRY,
                status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved")
    _slot(entry, "creationTime", _xds_time(head.effective_time))
    _slot(entry, "hash", hashlib.sha1(document).hexdigest())
    _slot(entry, "languageCode", head.language)
    if head.service_start:
        _slot(entry, "serviceStartTime", _xds_time(head.service_start))
    if head.service_stop:
        _slot(entry, "serviceStopTime", _xds_time(head.service_stop))
    _slot(entry, "size", str(len(document)))
    _slot(entry, "sourcePatientId", _cx(head.patient_id))
    _slot(entry, "sourcePatientInfo", f"PID-5|{head.family}^{head.given}^^^^^L", f"PID-7|{head.birth_time}",
          f"PID-8|{head.gender}")
    _slot(entry, "URI", DOC_NAME)
    _name(entry, head.title)
    _author(entry, ENTRY_SCHEMES["author"], head)
    for key, coded in (("classCode", CLASS_REPORT), ("confidentialityCode", head.confidentiality),
                       ("formatCode", CR_BIO_FORMAT),
                       ("healthcareFacilityTypeCode", head.facility if head.facility.code else FACILITY_LAB),
                       ("practiceSettingCode", head.practice_setting if head.practice_setting.code
                        else PRACTICE_AMBULATORY), ("typeCode", head.code)):
        _classify(entry, ENTRY_SCHEMES[key], coded)
    _identify(entry, ENTRY_SCHEMES["patientId"], _cx(head.patient_id), "XDSDocumentEntry.patientId")
    _identify(entry, ENTRY_SCHEMES["uniqueId"], head.unique_id, "XDSDocumentEntry.uniqueId")

    package = _el(objects, "RegistryPackage", id="SubmissionSet01",
                  objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage")
    _slot(package, "submissionTime", (submitted or datetime.now(UTC)).strftime("%Y%m%d%H%M%S"))
    _name(package, head.title)
    _author(package, SET_SCHEMES["author"], head)
    _classify(package, SET_SCHEMES["contentTypeCode"], CONTENT_TYPE)
    _identify(package, SET_SCHEMES["uniqueId"], submission_id or f"{source.source_oid}.{uuid.uuid4().int}",
              "XDSSubmissionSet.uniqueId")
    _identify(package, SET_SCHEMES["sourceId"], source.source_oid, "XDSSubmissionSet.sourceId")
    _identify(package, SET_SCHEMES["patientId"], _cx(head.patient_id), "XDSSubmissionSet.patientId")
    _el(objects, "Classification", id="SubmissionSet01-class", classifiedObject="SubmissionSet01",
        classificationNode=SUBMISSION_SET)
    member = _el(objects, "Association", id="Association01",
                 associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
                 sourceObject="SubmissionSet01", targetObject="Document01")
    _slot(member, "SubmissionSetStatus", "Original")
    return bytes(etree.tostring(request, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _index(head: CdaHeader, source: XdmSource) -> bytes:
    title = escape(head.title)
    return (
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Contenu du support IHE XDM</title>"
        f"</head><body><h1>{escape(source.organisation)}</h1><p>Ce support contient un document :</p><ul>"
        f"<li><a href=\"{SUBSET}/{DOC_NAME}\">{title}</a> (version {head.version})</li></ul>"
        f"<p>Métadonnées : <a href=\"{SUBSET}/METADATA.XML\">METADATA.XML</a>. "
        f"Contact : {escape(source.contact)}</p></body></html>\n"
    ).encode()


def _readme(source: XdmSource) -> bytes:
    return (
        f"Support IHE XDM (ITI-32) produit par {source.organisation}\r\n"
        f"Logiciel : {source.software}\r\nContact : {source.contact}\r\n"
        f"Contenu : INDEX.HTM, {SUBSET}/METADATA.XML, {SUBSET}/{DOC_NAME} (CDA R2 N3)\r\n"
    ).encode()


def build_xdm(document: bytes, source: XdmSource, *, message_id: str | None = None) -> tuple[bytes, CdaHeader]:
    """The zip bytes and the header they were made from (for the ``X-MSS-*`` headers); with the mail's
    ``message_id`` the submission set's uniqueId is derived from it (``submission_unique_id``)."""
    head = read_header(document)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("INDEX.HTM", _index(head, source))
        archive.writestr("README.TXT", _readme(source))
        archive.writestr(f"{SUBSET}/METADATA.XML", metadata(
            head, document, source,
            submission_id=submission_unique_id(source.source_oid, message_id) if message_id else None))
        archive.writestr(f"{SUBSET}/{DOC_NAME}", document)
    return buffer.getvalue(), head
