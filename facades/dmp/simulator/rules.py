"""The metadata rules the simulated DMP applies to an ITI-41 before storing anything.

Each failed rule is one RegistryError with the IHE code a registry/repository uses (ITI TF-3 Table
4.2.4.1-2): missing slot or classification -> ``XDSRegistryMetadataError``; hash/size that do not
match the bytes -> ``XDSRepositoryMetadataError``; patientId of an entry different from the
submission set's or from the VIHF's resource-id -> ``XDSPatientIdDoesNotMatch``; a patientId that is
not an INS -> ``XDSUnknownPatientId``; a document without metadata or metadata without document ->
``XDSMissingDocumentMetadata`` / ``XDSMissingDocument``; an RPLC target that the registry does not
hold as Approved -> ``UnresolvedReferenceException``; a uniqueId already registered ->
``XDSDuplicateUniqueIdInRegistry`` (same bytes) or ``XDSNonIdenticalHash`` (other bytes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Protocol

from facades.dmp import codes
from facades.dmp.errors import RegistryError
from facades.dmp.simulator.parsed import ParsedEntry, ParsedSubmission

INS_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11")
REQUIRED_SLOTS = ("creationTime", "hash", "size", "languageCode", "sourcePatientId", "legalAuthenticator")
REQUIRED_CODES = {codes.DE_CLASS: "classCode", codes.DE_CONFIDENTIALITY: "confidentialityCode",
                  codes.DE_FORMAT: "formatCode", codes.DE_FACILITY: "healthcareFacilityTypeCode",
                  codes.DE_PRACTICE: "practiceSettingCode", codes.DE_TYPE: "typeCode"}
CR_BIO_FORMATS = (codes.FORMAT_N3[0], codes.FORMAT_N1[0])
CONFIDENTIALITY = {codes.NORMAL[0], codes.MASQUE_PS, codes.INVISIBLE_PATIENT, codes.INVISIBLE_REPRESENTANTS_LEGAUX}


class Stored(Protocol):
    """What the rules need to know about an entry the registry already holds."""

    entry_uuid: str
    sha1: str
    status: str
    structure: str


def _error(code: str, context: str, location: str = "") -> RegistryError:
    return RegistryError(code, context, codes.SEVERITY_ERROR, location)


def is_signature(entry: ParsedEntry) -> bool:
    return entry.code(codes.DE_FORMAT) == codes.SIGNATURE_FORMAT[0]


def check_entry(entry: ParsedEntry, patient_id: str) -> list[RegistryError]:
    """Slots, codes, identifiers, hash and size of one DocumentEntry."""
    where = entry.identifiers.get(codes.DE_UNIQUE_ID) or entry.entry_id
    errors = [_error("XDSRegistryMetadataError", f"slot {name} missing", where)
              for name in REQUIRED_SLOTS if not entry.slot(name)]
    errors += [_error("XDSRegistryMetadataError", f"classification {label} missing", where)
               for scheme, label in REQUIRED_CODES.items() if not entry.code(scheme)]
    if not entry.author.get("authorPerson") and not entry.author.get("authorInstitution"):
        errors.append(_error("XDSRegistryMetadataError", "author missing", where))
    if not entry.title:
        errors.append(_error("XDSRegistryMetadataError", "title missing", where))
    if not entry.identifiers.get(codes.DE_UNIQUE_ID):
        errors.append(_error("XDSRegistryMetadataError", "XDSDocumentEntry.uniqueId missing", where))
    if entry.identifiers.get(codes.DE_PATIENT_ID) != patient_id:
        errors.append(_error("XDSPatientIdDoesNotMatch", "entry patientId differs from the submission set's", where))
    if not is_signature(entry):
        if entry.code(codes.DE_TYPE) != codes.TYPE_CR_BIO[0]:
            errors.append(_error("XDSRegistryMetadataError", f"typeCode {entry.code(codes.DE_TYPE)!r} is not "
                                 "11502-2 (CR de biologie)", where))
        if entry.code(codes.DE_FORMAT) not in CR_BIO_FORMATS:
            errors.append(_error("XDSRegistryMetadataError", f"formatCode {entry.code(codes.DE_FORMAT)!r} unknown",
                                 where))
        if not entry.slot("serviceStartTime"):
            errors.append(_error("XDSRegistryMetadataError", "slot serviceStartTime missing", where))
    found = [c for c, _ in entry.coded.get(codes.DE_CONFIDENTIALITY, [])]
    if [c for c in found if c not in CONFIDENTIALITY]:
        errors.append(_error("XDSRegistryMetadataError", f"confidentialityCode {found} outside JDV_J58", where))
    if entry.content is not None:
        if entry.slot("hash").lower() != hashlib.sha1(entry.content).hexdigest():  # noqa: S324 - XDS hash
            errors.append(_error("XDSRepositoryMetadataError", "hash does not match the document", where))
        if entry.slot("size") != str(len(entry.content)):
            errors.append(_error("XDSRepositoryMetadataError", "size does not match the document", where))
    return errors


def check_submission(parsed: ParsedSubmission, documents: Mapping[str, bytes], vihf_patient: str,
                     stored: Mapping[str, Stored], by_entry: Mapping[str, Stored],
                     vihf_structure: str) -> list[RegistryError]:
    """Every rule over the whole submission; an empty list means it can be stored."""
    patient_id = parsed.set_identifiers.get(codes.SS_PATIENT_ID, "")
    errors: list[RegistryError] = []
    if not parsed.set_present or not parsed.set_identifiers.get(codes.SS_UNIQUE_ID):
        errors.append(_error("XDSRegistryMetadataError", "no submission set with a uniqueId"))
    if not parsed.set_identifiers.get(codes.SS_SOURCE_ID):
        errors.append(_error("XDSRegistryMetadataError", "XDSSubmissionSet.sourceId missing"))
    oid = patient_id.split("&")[1] if patient_id.count("&") >= 2 else ""
    if oid not in INS_OIDS:
        errors.append(_error("XDSUnknownPatientId", "patientId is not an INS (NIR/NIA OID)"))
    if patient_id != vihf_patient:
        errors.append(_error("XDSPatientIdDoesNotMatch", "the VIHF resource-id is another patient"))
    ids = {e.entry_id for e in parsed.entries}
    errors += [_error("XDSMissingDocumentMetadata", f"document {d} has no DocumentEntry") for d in documents
               if d not in ids]
    for entry in parsed.entries:
        entry.content = documents.get(entry.entry_id)
        if entry.content is None:
            errors.append(_error("XDSMissingDocument", f"no document for {entry.entry_id}"))
        errors += check_entry(entry, patient_id)
        unique_id = entry.identifiers.get(codes.DE_UNIQUE_ID, "")
        held = stored.get(unique_id)
        if held is not None and entry.content is not None:
            same = held.sha1 == hashlib.sha1(entry.content).hexdigest()  # noqa: S324
            errors.append(_error(codes.DUPLICATE_UNIQUE_ID if same else "XDSNonIdenticalHash",
                                 f"uniqueId {unique_id} already registered", unique_id))
    if sum(is_signature(e) for e in parsed.entries) != 1:
        errors.append(_error("XDSRegistryMetadataError", "the submission set signature (XAdES) entry is missing"))
    for kind, source, target, _ in parsed.associations:
        if kind == codes.RPLC:
            target_entry = by_entry.get(target)
            if target_entry is None or target_entry.status != codes.APPROVED:
                errors.append(_error("UnresolvedReferenceException", f"RPLC target {target} is not an approved "
                                     "entry of this DMP", source))
            elif target_entry.structure != vihf_structure:
                errors.append(_error("XDSRegistryMetadataError", "only the author's structure may replace a "
                                     "document", source))
    return errors
