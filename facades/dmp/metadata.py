"""XDS.b metadata (ebRIM 3.0) of a CR-Bio submission: the ``lcm:SubmitObjectsRequest`` of ITI-41.

One ``rim:ExtrinsicObject`` (DocumentEntry) per document with the CR-Bio codes (typeCode 11502-2,
classCode, formatCode N3/N1, practiceSetting, healthcareFacilityType, confidentialityCode from the
dossier's visibility settings: SGL.DOC.16), the author, hash (SHA-1), size, patientId (the INS),
uniqueId; a ``rim:RegistryPackage`` submission set with its author, contentTypeCode, sourceId,
patientId, uniqueId; HasMember associations, and an RPLC association from a new version to the
entry it replaces (SGL.DMP.03). The XAdES signature of the set is one more DocumentEntry
(:func:`signature_entry`).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from lxml import etree

from facades.dmp import codes
from facades.dmp.model import Code, Document, Kind, Person, Structure, Submission, entry_uuid

R = codes.RIM
CLASSIFICATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification"


@dataclass(frozen=True)
class Entry:
    """A DocumentEntry to write: the document (or the signature), its codes and its content."""

    entry_id: str
    unique_id: str
    mime_type: str
    title: str
    content: bytes
    creation_time: datetime
    class_code: Code
    type_code: Code
    format_code: Code
    confidentiality: tuple[Code, ...]
    service_start: datetime | None = None
    service_stop: datetime | None = None
    replaces: str | None = None
    event: Code | None = None
    logical_id: str | None = None  # ITI-57 metadata update: the entry's logicalID (its first entryUUID)
    previous_version: str = "1"


def dtm(moment: datetime) -> str:
    """XDS DTM in UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def _rim(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{R}}}{tag}", attrs)


def _slot(parent: etree._Element, name: str, *values: str) -> None:
    holder = _rim(_rim(parent, "Slot", name=name), "ValueList")
    for value in values:
        _rim(holder, "Value").text = value


def _name(parent: etree._Element, text: str) -> None:
    _rim(_rim(parent, "Name"), "LocalizedString", value=text, charset="UTF-8")


def _classification(parent: etree._Element, scheme: str, ident: str, code: Code) -> None:
    value, system, display = code
    node = _rim(parent, "Classification", classificationScheme=scheme, classifiedObject=parent.get("id", ""),
                nodeRepresentation=value, id=ident, objectType=CLASSIFICATION)
    _slot(node, "codingScheme", system)
    _name(node, display)


def _external_id(parent: etree._Element, scheme: str, ident: str, value: str, name: str) -> None:
    node = _rim(parent, "ExternalIdentifier", identificationScheme=scheme, value=value, id=ident,
                registryObject=parent.get("id", ""),
                objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier")
    _name(node, name)


def _author(parent: etree._Element, scheme: str, ident: str, author: Person, structure: Structure) -> None:
    node = _rim(parent, "Classification", classificationScheme=scheme, classifiedObject=parent.get("id", ""),
                nodeRepresentation="", id=ident,
                objectType=CLASSIFICATION)
    _slot(node, "authorPerson", author.xcn)
    _slot(node, "authorInstitution", structure.xon)
    _slot(node, "authorRole", f"{author.profession}^^^&1.2.250.1.71.1.2.7&ISO")
    if author.specialty:
        _slot(node, "authorSpecialty", f"{author.specialty}^^^&1.2.250.1.71.4.2.5&ISO")


def document_entries(submission: Submission) -> list[Entry]:
    """The entries of the CR-Bio documents, with the dossier's confidentiality codes."""
    confidentiality = tuple(submission.visibility.confidentiality())
    return [Entry(entry_uuid(doc.unique_id), doc.unique_id, doc.kind.mime_type, doc.title, doc.content,
                  doc.creation_time, codes.CLASS_CR_BIO, codes.TYPE_CR_BIO, doc.kind.format_code, confidentiality,
                  doc.service_start, doc.service_stop, doc.replaces)
            for doc in submission.documents]


def updated_entries(submission: Submission, previous_version: str) -> list[Entry]:
    """New metadata versions of the submission's entries (ITI-57): fresh entryUUIDs, same logicalIDs."""
    return [replace(entry, entry_id=f"urn:uuid:{uuid.uuid4()}", logical_id=entry.entry_id, replaces=None,
                    previous_version=previous_version)
            for entry in document_entries(submission)]


def signature_entry(unique_id: str, content: bytes, now: datetime) -> Entry:
    """The DocumentEntry carrying the XAdES signature, masked and invisible as the DMP expects."""
    system = codes.CONFIDENTIALITY_SYSTEM
    return Entry(entry_uuid(unique_id), unique_id, "text/xml", "Source", content, now, codes.SIGNATURE_CLASS,
                 codes.SIGNATURE_TYPE, codes.SIGNATURE_FORMAT,
                 (codes.NORMAL, (codes.MASQUE_PS, system, "Masqué PS"), (codes.INVISIBLE_PATIENT, system,
                                                                          "Invisible patient")),
                 event=codes.SIGNATURE_EVENT)


def _entry(registry_list: etree._Element, entry: Entry, submission: Submission, index: int) -> None:
    node = _rim(registry_list, "ExtrinsicObject", id=entry.entry_id, mimeType=entry.mime_type,
                objectType=codes.DOCUMENT_ENTRY)
    if entry.logical_id:
        node.set("lid", entry.logical_id)
    _slot(node, "creationTime", dtm(entry.creation_time))
    _slot(node, "hash", hashlib.sha1(entry.content).hexdigest())  # noqa: S324 - XDS mandates SHA-1 here
    _slot(node, "languageCode", "fr-FR" if entry.type_code != codes.SIGNATURE_TYPE else "art")
    _slot(node, "legalAuthenticator", submission.author.xcn)
    if entry.service_start:
        _slot(node, "serviceStartTime", dtm(entry.service_start))
    if entry.service_stop:
        _slot(node, "serviceStopTime", dtm(entry.service_stop))
    _slot(node, "size", str(len(entry.content)))
    _slot(node, "sourcePatientId", submission.patient_id)
    _name(node, entry.title)
    prefix = f"cl{index:02d}"
    _author(node, codes.DE_AUTHOR, f"{prefix}a", submission.author, submission.structure)
    _classification(node, codes.DE_CLASS, f"{prefix}b", entry.class_code)
    for n, code in enumerate(entry.confidentiality):
        _classification(node, codes.DE_CONFIDENTIALITY, f"{prefix}c{n}", code)
    if entry.event:
        _classification(node, codes.DE_EVENT, f"{prefix}e", entry.event)
    _classification(node, codes.DE_FORMAT, f"{prefix}f", entry.format_code)
    _classification(node, codes.DE_FACILITY, f"{prefix}h", submission.structure.sector)
    _classification(node, codes.DE_PRACTICE, f"{prefix}p", submission.structure.practice_setting)
    _classification(node, codes.DE_TYPE, f"{prefix}t", entry.type_code)
    _external_id(node, codes.DE_PATIENT_ID, f"ei{index:02d}p", submission.patient_id, "XDSDocumentEntry.patientId")
    _external_id(node, codes.DE_UNIQUE_ID, f"ei{index:02d}u", entry.unique_id, "XDSDocumentEntry.uniqueId")


def _association(registry_list: etree._Element, ident: str, kind: str, source: str, target: str,
                 **slots: str) -> None:
    node = _rim(registry_list, "Association", associationType=kind, sourceObject=source, targetObject=target,
                id=ident, objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association")
    for name, value in slots.items():
        _slot(node, name, value)


def submit_objects(submission: Submission, entries: list[Entry], set_uid: str, now: datetime) -> etree._Element:
    """The ``lcm:SubmitObjectsRequest`` for ``entries`` (documents first, then the signature)."""
    request = etree.Element(f"{{{codes.LCM}}}SubmitObjectsRequest", nsmap={"lcm": codes.LCM, "rim": R})
    registry_list = _rim(request, "RegistryObjectList")
    for index, entry in enumerate(entries):
        _entry(registry_list, entry, submission, index)
    package = _rim(registry_list, "RegistryPackage", id="SubmissionSet01",
                   objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage")
    _slot(package, "submissionTime", dtm(submission.submission_time or now))
    _name(package, "CR de biologie médicale")
    _author(package, codes.SS_AUTHOR, "ss-author", submission.author, submission.structure)
    _classification(package, codes.SS_CONTENT_TYPE, "ss-content", submission.structure.content_type)
    _external_id(package, codes.SS_UNIQUE_ID, "ss-uid", set_uid, "XDSSubmissionSet.uniqueId")
    _external_id(package, codes.SS_SOURCE_ID, "ss-src", "1.2.250.1.213.1.1.1.1." + submission.structure.identifier,
                 "XDSSubmissionSet.sourceId")
    _external_id(package, codes.SS_PATIENT_ID, "ss-pid", submission.patient_id, "XDSSubmissionSet.patientId")
    _rim(registry_list, "Classification", classifiedObject="SubmissionSet01",
         classificationNode=codes.SUBMISSION_SET_NODE, id="ss-node",
         objectType=CLASSIFICATION)
    for index, entry in enumerate(entries):
        if entry.logical_id:
            _association(registry_list, f"as{index:02d}", codes.HAS_MEMBER, "SubmissionSet01", entry.entry_id,
                         SubmissionSetStatus="Original", PreviousVersion=entry.previous_version)
        else:
            _association(registry_list, f"as{index:02d}", codes.HAS_MEMBER, "SubmissionSet01", entry.entry_id,
                         SubmissionSetStatus="Original")
        if entry.replaces:
            _association(registry_list, f"rp{index:02d}", codes.RPLC, entry.entry_id, entry_uuid(entry.replaces))
    return request


def n3_first(documents: tuple[Document, ...]) -> tuple[Document, ...]:
    """N3 before N1, whatever order the caller gave (stable metadata, stable tests)."""
    return tuple(sorted(documents, key=lambda d: d.kind is not Kind.N3))
