"""SOAP 1.2 envelopes of the DMP transactions: WS-Addressing headers, the VIHF, and the bodies.

- ITI-41 (:func:`provide_and_register`): ``xdsb:ProvideAndRegisterDocumentSetRequest`` = the
  SubmitObjectsRequest + one ``xdsb:Document id=<entryUUID>`` per entry whose content is an
  ``xop:Include`` of a MIME part, sent by :mod:`facades.dmp.mtom`.
- ITI-57 (:func:`update_availability`): a SubmitObjectsRequest with a submission set and an
  ``UpdateAvailabilityStatus`` association (OriginalStatus -> NewStatus) for deletion or archiving.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from facades.dmp import codes, metadata, mtom
from facades.dmp.metadata import Entry
from facades.dmp.model import Submission, entry_uuid


@dataclass(frozen=True)
class Outgoing:
    """A ready request: action, message id, HTTP content type and body."""

    action: str
    message_id: str
    content_type: str
    body: bytes


def _envelope(action: str, to: str, assertion: etree._Element, body: etree._Element) -> tuple[str, bytes]:
    message_id = f"urn:uuid:{uuid.uuid4()}"
    envelope = etree.Element(f"{{{codes.SOAP}}}Envelope",
                             nsmap={"soap": codes.SOAP, "wsa": codes.WSA, "wsse": codes.WSSE})
    header = etree.SubElement(envelope, f"{{{codes.SOAP}}}Header")
    etree.SubElement(header, f"{{{codes.WSA}}}Action", {f"{{{codes.SOAP}}}mustUnderstand": "true"}).text = action
    etree.SubElement(header, f"{{{codes.WSA}}}MessageID").text = message_id
    etree.SubElement(header, f"{{{codes.WSA}}}To").text = to
    security = etree.SubElement(header, f"{{{codes.WSSE}}}Security", {f"{{{codes.SOAP}}}mustUnderstand": "true"})
    security.append(assertion)
    etree.SubElement(envelope, f"{{{codes.SOAP}}}Body").append(body)
    return message_id, etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def provide_and_register(submission: Submission, entries: list[Entry], set_uid: str, assertion: etree._Element,
                         to: str, now: datetime) -> Outgoing:
    """ITI-41 as MTOM: envelope root part plus one binary part per entry."""
    request = etree.Element(f"{{{codes.XDSB}}}ProvideAndRegisterDocumentSetRequest", nsmap={"xdsb": codes.XDSB})
    request.append(metadata.submit_objects(submission, entries, set_uid, now))
    parts: dict[str, tuple[str, bytes]] = {}
    for index, entry in enumerate(entries):
        cid = f"doc{index}.{uuid.uuid4().hex}@opensgl"
        document = etree.SubElement(request, f"{{{codes.XDSB}}}Document", id=entry.entry_id)
        mtom.include(document, cid)
        parts[cid] = ("application/octet-stream", entry.content)
    message_id, xml = _envelope(codes.ACTION_ITI41, to, assertion, request)
    encoded = mtom.encode(xml, parts, codes.ACTION_ITI41)
    return Outgoing(codes.ACTION_ITI41, message_id, encoded.content_type, encoded.body)


def update_availability(submission: Submission, unique_ids: list[str], original: str, new: str, set_uid: str,
                        assertion: etree._Element, to: str, now: datetime) -> Outgoing:
    """ITI-57 changing the availability status of the entries of ``unique_ids`` (delete, archive), all or none."""
    request = etree.Element(f"{{{codes.LCM}}}SubmitObjectsRequest", nsmap={"lcm": codes.LCM, "rim": codes.RIM})
    registry_list = etree.SubElement(request, f"{{{codes.RIM}}}RegistryObjectList")
    skeleton = metadata.submit_objects(submission, [], set_uid, now)
    for node in list(skeleton.iterfind(f"{{{codes.RIM}}}RegistryObjectList/*")):
        registry_list.append(node)
    for index, unique_id in enumerate(unique_ids):
        association = etree.SubElement(
            registry_list, f"{{{codes.RIM}}}Association", associationType=codes.UPDATE_AVAILABILITY,
            sourceObject="SubmissionSet01", targetObject=entry_uuid(unique_id), id=f"upd{index:02d}",
            objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association")
        for name, value in (("OriginalStatus", original), ("NewStatus", new)):
            slot = etree.SubElement(association, f"{{{codes.RIM}}}Slot", name=name)
            etree.SubElement(etree.SubElement(slot, f"{{{codes.RIM}}}ValueList"), f"{{{codes.RIM}}}Value").text = value
    message_id, xml = _envelope(codes.ACTION_ITI57, to, assertion, request)
    content_type = f'application/soap+xml; charset=UTF-8; action="{codes.ACTION_ITI57}"'
    return Outgoing(codes.ACTION_ITI57, message_id, content_type, xml)



def update_metadata(submission: Submission, previous_version: str, set_uid: str, assertion: etree._Element,
                    to: str, now: datetime) -> Outgoing:
    """ITI-57 publishing a new metadata version of each document of ``submission`` (masking, visibility:
    the confidentialityCodes of its ``visibility``), each pointing at its entry by ``lid`` + PreviousVersion."""
    request = metadata.submit_objects(submission, metadata.updated_entries(submission, previous_version), set_uid, now)
    message_id, xml = _envelope(codes.ACTION_ITI57, to, assertion, request)
    content_type = f'application/soap+xml; charset=UTF-8; action="{codes.ACTION_ITI57}"'
    return Outgoing(codes.ACTION_ITI57, message_id, content_type, xml)


def stored_query(request: etree._Element, assertion: etree._Element, to: str) -> Outgoing:
    """ITI-18 (an ``AdhocQueryRequest`` of :mod:`facades.dmp.query`): FindDocuments or GetDocuments, LeafClass."""
    message_id, xml = _envelope(codes.ACTION_ITI18, to, assertion, request)
    content_type = f'application/soap+xml; charset=UTF-8; action="{codes.ACTION_ITI18}"'
    return Outgoing(codes.ACTION_ITI18, message_id, content_type, xml)
