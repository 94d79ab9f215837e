"""The simulated DMP's state and behaviour: what it answers to one ITI-41 or ITI-57 request.

Order of checks, as the real service: the WS-Security header (a VIHF signed by a certificate of
the trusted CA, with its required attributes; else a SOAP Sender fault ``wsse:FailedAuthentication``),
then the metadata rules and the XAdES signature of the submission set (a RegistryResponse Failure
listing every RegistryError), then storage. A resend of documents it already holds with the same
bytes gets ``XDSDuplicateUniqueIdInRegistry`` and changes nothing. Faults can be queued
(:meth:`SimulatedDmp.queue_faults`) to test the client's retries.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from lxml import etree

from facades.dmp import codes, mtom, response
from facades.dmp.errors import RegistryError
from facades.dmp.query import write_response
from facades.dmp.simulator import queries, rules
from facades.dmp.simulator.parsed import NS, ParsedEntry, ParsedSubmission, registry_objects
from facades.dmp.vihf import VihfContent, VihfInvalid, verify_vihf
from facades.dmp.xades import SignatureInvalid, verify_submission_signature
from resources.outside_xml import parse_outside_xml

SOAP_TYPE = "application/soap+xml; charset=UTF-8"
FAULT_MODES = ("http500", "soap_fault", "registry_error", "garbage", "truncated", "slow", "drop")
TRANSACTIONS = {codes.ACTION_ITI41: "ITI-41", codes.ACTION_ITI57: "ITI-57", codes.ACTION_ITI18: "ITI-18"}
PROCESSED_FAULTS = ("slow", "drop")
"""Faults that happen after the request was processed (stored): a late answer, or the connection dropped while
answering (the client cannot know whether the DMP holds the documents)."""


@dataclass
class StoredEntry:
    """One DocumentEntry held by the simulated DMP, as ``/_sim/documents`` shows it."""

    entry_uuid: str
    unique_id: str
    sha1: str
    status: str
    structure: str
    record: dict[str, Any]
    content: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    delay: float = 0.0
    drop: bool = False


@dataclass
class SimulatedDmp:
    """In-memory registry + repository; ``ca`` is the CA trusted for VIHF and XAdES signatures."""

    ca: x509.Certificate
    entries: dict[str, StoredEntry] = field(default_factory=dict)  # by uniqueId
    faults: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    transactions: dict[str, int] = field(default_factory=dict)
    """Requests read and answered (not cut short by a queued fault), by IHE transaction: ``ITI-18``..."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def by_entry(self) -> dict[str, StoredEntry]:
        return {e.entry_uuid: e for e in self.entries.values()}

    def queue_faults(self, mode: str, count: int, code: str = "XDSRegistryBusy", delay: float = 0.0) -> None:
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r} (one of {', '.join(FAULT_MODES)})")
        self.faults.extend({"mode": mode, "code": code, "delay": delay} for _ in range(count))

    def documents(self) -> list[dict[str, Any]]:
        return [e.record for e in self.entries.values() if not e.record.get("signature")]

    def reset(self) -> None:
        self.entries.clear()
        self.faults.clear()
        self.requests = 0
        self.transactions.clear()

    async def handle(self, path: str, content_type: str, body: bytes) -> Reply:
        async with self.lock:
            self.requests += 1
            fault = self.faults.pop(0) if self.faults else None
            if fault is not None and fault["mode"] not in PROCESSED_FAULTS:
                return _fault_reply(fault)
            reply = self._handle(path, content_type, body)
            return Reply(reply.status, reply.content_type, reply.body, fault["delay"] if fault else 0.0,
                         drop=fault is not None and fault["mode"] == "drop")

    def _handle(self, path: str, content_type: str, body: bytes) -> Reply:
        try:
            message = mtom.split(content_type, body)
            envelope = parse_outside_xml(message.envelope)
        except (mtom.MtomUnreadable, etree.XMLSyntaxError) as exc:
            return _soap_fault("Sender", "", f"requête illisible: {exc}")
        action = (envelope.findtext("s:Header/a:Action", "", NS) or "").strip()
        message_id = (envelope.findtext("s:Header/a:MessageID", "", NS) or "").strip()
        name = TRANSACTIONS.get(action, action or "unknown")
        self.transactions[name] = self.transactions.get(name, 0) + 1
        assertion = envelope.find("s:Header/w:Security/{urn:oasis:names:tc:SAML:2.0:assertion}Assertion", NS)
        if assertion is None:
            return _soap_fault("Sender", "wsse:InvalidSecurity", "VIHF absent de wsse:Security")
        try:
            vihf = verify_vihf(assertion, self.ca, datetime.now(UTC))
        except VihfInvalid as exc:
            return _soap_fault("Sender", "wsse:FailedAuthentication", f"VIHF refusé: {exc}")
        if path.endswith(codes.REPOSITORY) and action == codes.ACTION_ITI41:
            request = envelope.find("s:Body/x:ProvideAndRegisterDocumentSetRequest", NS)
            if request is None:
                return _soap_fault("Sender", "", "ProvideAndRegisterDocumentSetRequest absent")
            errors = self._provide(request, message.parts, vihf)
            return _answer(errors, codes.ACTION_ITI41_RESPONSE, message_id)
        if path.endswith(codes.REGISTRY) and action == codes.ACTION_ITI57:
            request = envelope.find("s:Body/l:SubmitObjectsRequest", NS)
            if request is None:
                return _soap_fault("Sender", "", "SubmitObjectsRequest absent")
            return _answer(self._update(request, vihf), codes.ACTION_ITI57_RESPONSE, message_id)
        if path.endswith(codes.REGISTRY) and action == codes.ACTION_ITI18:
            return self._query(envelope, vihf, message_id)
        return _soap_fault("Sender", "wsa:ActionNotSupported", f"action {action!r} non prise en charge sur {path}")

    def _query(self, envelope: etree._Element, vihf: VihfContent, message_id: str) -> Reply:
        """ITI-18 FindDocuments / GetDocuments, limited to the VIHF's patient (LeafClass answer)."""
        query = envelope.find(f"s:Body/{{{codes.QUERY}}}AdhocQueryRequest/{{{codes.RIM}}}AdhocQuery", NS)
        found, errors = queries.answer(query, self.entries.values(), vihf.resource_id)
        return Reply(200, SOAP_TYPE, write_response(found, message_id, errors))

    def _provide(self, request: etree._Element, parts: dict[str, bytes], vihf: VihfContent) -> list[RegistryError]:
        submit = request.find("l:SubmitObjectsRequest", NS)
        parsed = registry_objects(submit if submit is not None else etree.Element("none"))
        documents: dict[str, bytes] = {}
        try:
            for document in request.iterfind("x:Document", NS):
                documents[document.get("id", "")] = mtom.resolve(document, parts)
        except (mtom.MtomUnreadable, ValueError) as exc:
            return [RegistryError("XDSMissingDocument", str(exc), codes.SEVERITY_ERROR)]
        resend = _resend(parsed.entries, documents, self.entries)
        if resend:
            return resend
        errors = rules.check_submission(parsed, documents, vihf.resource_id, self.entries, self.by_entry(),
                                        vihf.structure)
        signature = next((e for e in parsed.entries if rules.is_signature(e)), None)
        if signature is not None and signature.content is not None:
            signed = {e.identifiers.get(codes.DE_UNIQUE_ID, ""): e.content for e in parsed.entries
                      if e is not signature and e.content is not None}
            try:
                verify_submission_signature(signature.content, self.ca,
                                            parsed.set_identifiers.get(codes.SS_UNIQUE_ID, ""), signed)
            except SignatureInvalid as exc:
                errors.append(RegistryError("XDSRegistryMetadataError", f"signature XAdES du lot: {exc}",
                                            codes.SEVERITY_ERROR))
        if errors:
            return errors
        self._store(parsed.entries, parsed.associations, vihf, parsed.set_identifiers.get(codes.SS_UNIQUE_ID, ""))
        return []

    def _store(self, entries: list[ParsedEntry], associations: list[tuple[str, str, str, dict[str, str]]],
               vihf: VihfContent, set_uid: str) -> None:
        replaced = {source: target for kind, source, target, _ in associations if kind == codes.RPLC}
        by_entry = self.by_entry()
        received = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for entry in entries:
            content = entry.content or b""
            unique_id = entry.identifiers[codes.DE_UNIQUE_ID]
            target = by_entry.get(replaced.get(entry.entry_id, ""))
            if target is not None:
                target.status = target.record["availabilityStatus"] = codes.DEPRECATED
            author = (entry.author.get("authorPerson") or [""])[0].split("^")[0]
            sha1 = hashlib.sha1(content).hexdigest()  # noqa: S324 - XDS hash
            record: dict[str, Any] = {
                "uniqueId": unique_id, "entryUUID": entry.entry_id,
                "patientId": entry.identifiers.get(codes.DE_PATIENT_ID, ""),
                "formatCode": entry.code(codes.DE_FORMAT), "typeCode": entry.code(codes.DE_TYPE),
                "classCode": entry.code(codes.DE_CLASS),
                "confidentialityCode": [c for c, _ in entry.coded.get(codes.DE_CONFIDENTIALITY, [])],
                "practiceSettingCode": entry.code(codes.DE_PRACTICE),
                "healthcareFacilityTypeCode": entry.code(codes.DE_FACILITY),
                "mimeType": entry.mime_type, "title": entry.title, "size": len(content),
                "hash": sha1,
                "availabilityStatus": codes.APPROVED,
                "replaces": target.unique_id if target is not None else None,
                "authorRpps": author[1:] if len(author) == 12 and author.startswith("8") else author,
                "authorInstitution": (entry.author.get("authorInstitution") or [""])[0],
                "vihfSubject": vihf.name_id, "vihfRoles": list(vihf.roles), "vihfStructure": vihf.structure,
                "submissionSet": set_uid, "version": 1, "signature": rules.is_signature(entry), "received": received,
            }
            self.entries[unique_id] = StoredEntry(entry.entry_id, unique_id, sha1, codes.APPROVED,
                                                  vihf.structure, record, content)

    def _update(self, request: etree._Element, vihf: VihfContent) -> list[RegistryError]:
        parsed = registry_objects(request)
        patient_id = parsed.set_identifiers.get(codes.SS_PATIENT_ID, "")
        if patient_id != vihf.resource_id:
            return [RegistryError("XDSPatientIdDoesNotMatch", "the VIHF resource-id is another patient",
                                  codes.SEVERITY_ERROR)]
        if any(e.logical_id for e in parsed.entries):
            return self._new_metadata_versions(parsed, patient_id, vihf)
        updates = [(target, slots) for kind, _, target, slots in parsed.associations
                   if kind == codes.UPDATE_AVAILABILITY]
        if not updates:
            return [RegistryError("XDSMetadataUpdateError", "no UpdateAvailabilityStatus association",
                                  codes.SEVERITY_ERROR)]
        by_entry = self.by_entry()
        errors = []
        for target, slots in updates:
            held = by_entry.get(target)
            if held is None or held.record["patientId"] != patient_id:
                errors.append(RegistryError("UnresolvedReferenceException", f"no entry {target} for this patient",
                                            codes.SEVERITY_ERROR))
            elif held.status != slots.get("OriginalStatus"):
                errors.append(RegistryError("XDSMetadataUpdateError", f"entry {target} is {held.status}, not "
                                            f"{slots.get('OriginalStatus')}", codes.SEVERITY_ERROR))
            elif slots.get("NewStatus") not in (codes.DELETED, codes.ARCHIVED, codes.APPROVED):
                errors.append(RegistryError("XDSMetadataUpdateError", f"NewStatus {slots.get('NewStatus')!r} "
                                            "not allowed", codes.SEVERITY_ERROR))
        if not errors:
            for target, slots in updates:
                held = by_entry[target]
                held.status = held.record["availabilityStatus"] = slots["NewStatus"]
        return errors

    def _new_metadata_versions(self, parsed: ParsedSubmission, patient_id: str,
                               vihf: VihfContent) -> list[RegistryError]:
        """ITI-57 metadata update: each entry names its logicalID and the version it succeeds."""
        by_entry = self.by_entry()
        previous = {target: slots.get("PreviousVersion", "") for kind, _, target, slots in parsed.associations
                    if kind == codes.HAS_MEMBER}
        errors: list[RegistryError] = []
        for entry in parsed.entries:
            held = by_entry.get(entry.logical_id)
            if held is None or held.record["patientId"] != patient_id:
                errors.append(_error("UnresolvedReferenceException", f"no entry {entry.logical_id} for this patient"))
                continue
            if held.status != codes.APPROVED:
                errors.append(_error("XDSMetadataUpdateError", f"entry {entry.logical_id} is {held.status}"))
            if previous.get(entry.entry_id) != str(held.record["version"]):
                errors.append(_error("XDSMetadataVersionError", f"PreviousVersion {previous.get(entry.entry_id)!r} "
                                     f"is not the current version {held.record['version']}"))
            if held.structure != vihf.structure:
                errors.append(_error("XDSMetadataUpdateError", "only the author's structure may update an entry"))
            entry.content = held.content
            errors += rules.check_entry(entry, patient_id)
        if not errors:
            for entry in parsed.entries:
                record = by_entry[entry.logical_id].record
                record["confidentialityCode"] = [c for c, _ in entry.coded.get(codes.DE_CONFIDENTIALITY, [])]
                record["version"] += 1
        return errors


def _error(code: str, context: str) -> RegistryError:
    return RegistryError(code, context, codes.SEVERITY_ERROR)


def _resend(entries: list[ParsedEntry], documents: dict[str, bytes],
            stored: dict[str, StoredEntry]) -> list[RegistryError]:
    """Duplicate errors when every CR-Bio document is already held with the same bytes (a resend)."""
    docs = [e for e in entries if not rules.is_signature(e)]
    out = []
    for entry in docs:
        held = stored.get(entry.identifiers.get(codes.DE_UNIQUE_ID, ""))
        content = documents.get(entry.entry_id)
        if held is None or content is None or held.sha1 != hashlib.sha1(content).hexdigest():  # noqa: S324
            return []
        out.append(RegistryError(codes.DUPLICATE_UNIQUE_ID, f"uniqueId {held.unique_id} already registered",
                                 codes.SEVERITY_ERROR, held.unique_id))
    return out


def _answer(errors: list[RegistryError], action: str, relates_to: str) -> Reply:
    return Reply(200, SOAP_TYPE, response.registry_response(errors, action, relates_to))


def _soap_fault(code: str, subcode: str, reason: str) -> Reply:
    return Reply(500 if code == "Receiver" else 400, SOAP_TYPE, response.soap_fault(code, subcode, reason))


def _fault_reply(fault: dict[str, Any]) -> Reply:
    mode = fault["mode"]
    if mode == "http500":
        return Reply(500, "text/plain", b"Internal Server Error")
    if mode == "soap_fault":
        return _soap_fault("Receiver", "", "service momentanément indisponible")
    if mode == "garbage":
        return Reply(200, SOAP_TYPE, b"<html>proxy error</html")
    if mode == "truncated":
        encoded = mtom.encode(response.registry_response([], codes.ACTION_ITI41_RESPONSE, ""), {}, "x")
        return Reply(200, encoded.content_type, encoded.body[: len(encoded.body) // 2])
    error = RegistryError(fault["code"], "erreur simulée", codes.SEVERITY_ERROR)
    return _answer([error], codes.ACTION_ITI41_RESPONSE, "")
