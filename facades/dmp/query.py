"""ITI-18 Registry Stored Query: FindDocuments (a patient's entries by status, optionally by formatCode) and
GetDocuments (entries by uniqueId), the LeafClass answer both ways.

The client reads an ``AdhocQueryResponse`` into :class:`FoundEntry` values (what the outbox needs before a
resend, and what a lab checks of what the DMP holds: status, format, type, class, confidentiality, hash,
size); the simulator writes one from what it holds. Only the DocumentEntry parts the DMP feeding uses are
read; the rest of an entry is ignored, whatever namespace prefixes the answer uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from facades.dmp import codes
from facades.dmp.errors import RegistryError

CODED = {"format_code": codes.DE_FORMAT, "type_code": codes.DE_TYPE, "class_code": codes.DE_CLASS}


@dataclass(frozen=True)
class FoundEntry:
    """One DocumentEntry of a stored-query answer."""

    entry_uuid: str
    unique_id: str
    status: str
    patient_id: str = ""
    mime_type: str = ""
    format_code: str = ""
    type_code: str = ""
    class_code: str = ""
    confidentiality: tuple[str, ...] = ()
    hash: str = ""
    size: int | None = None


def _quoted(values: list[str]) -> str:
    return "(" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _slot(parent: etree._Element, name: str, *values: str) -> None:
    slot = etree.SubElement(parent, f"{{{codes.RIM}}}Slot", name=name)
    value_list = etree.SubElement(slot, f"{{{codes.RIM}}}ValueList")
    for value in values:
        etree.SubElement(value_list, f"{{{codes.RIM}}}Value").text = value


def _request(query_id: str) -> tuple[etree._Element, etree._Element]:
    request = etree.Element(f"{{{codes.QUERY}}}AdhocQueryRequest", nsmap={"query": codes.QUERY, "rim": codes.RIM})
    etree.SubElement(request, f"{{{codes.QUERY}}}ResponseOption", returnType="LeafClass",
                     returnComposedObjects="true")
    return request, etree.SubElement(request, f"{{{codes.RIM}}}AdhocQuery", id=query_id)


def find_documents(patient_id: str, statuses: tuple[str, ...], format_codes: tuple[str, ...] = ()) -> etree._Element:
    """FindDocuments of ``patient_id`` (``<INS>^^^&<OID>&ISO^NH``) in ``statuses``; ``format_codes`` as
    ``code^^scheme`` (e.g. ``urn:ihe:lab:xd-lab:2008^^1.3.6.1.4.1.19376.1.2.3``)."""
    request, query = _request(codes.FIND_DOCUMENTS)
    _slot(query, "$XDSDocumentEntryPatientId", "'" + patient_id.replace("'", "''") + "'")
    _slot(query, "$XDSDocumentEntryStatus", _quoted(list(statuses)))
    if format_codes:
        _slot(query, "$XDSDocumentEntryFormatCode", _quoted(list(format_codes)))
    return request


def get_documents(unique_ids: list[str]) -> etree._Element:
    """GetDocuments by uniqueId."""
    request, query = _request(codes.GET_DOCUMENTS)
    _slot(query, "$XDSDocumentEntryUniqueId", _quoted(unique_ids))
    return request


def read_entries(response: etree._Element) -> tuple[FoundEntry, ...]:
    """The DocumentEntries (ExtrinsicObjects) of an ``AdhocQueryResponse`` element."""
    rim = f"{{{codes.RIM}}}"
    out = []
    for node in response.iterfind(f"{rim}RegistryObjectList/{rim}ExtrinsicObject"):
        idents = {i.get("identificationScheme", ""): i.get("value", "")
                  for i in node.iterfind(f"{rim}ExternalIdentifier")}
        coded: dict[str, list[str]] = {}
        for classification in node.iterfind(f"{rim}Classification"):
            coded.setdefault(classification.get("classificationScheme", ""), []).append(
                classification.get("nodeRepresentation", ""))
        slots = {s.get("name", ""): (s.findtext(f"{rim}ValueList/{rim}Value") or "").strip()
                 for s in node.iterfind(f"{rim}Slot")}
        size = slots.get("size", "")
        out.append(FoundEntry(
            node.get("id", ""), idents.get(codes.DE_UNIQUE_ID, ""), node.get("status", ""),
            idents.get(codes.DE_PATIENT_ID, ""), node.get("mimeType", ""),
            **{name: (coded.get(scheme) or [""])[0] for name, scheme in CODED.items()},
            confidentiality=tuple(coded.get(codes.DE_CONFIDENTIALITY, ())), hash=slots.get("hash", ""),
            size=int(size) if size.isdigit() else None))
    return tuple(out)


def write_response(entries: list[FoundEntry], relates_to: str, errors: tuple[RegistryError, ...] = ()) -> bytes:
    """An ITI-18 answer (the simulator's side): Success listing ``entries`` as LeafClass ExtrinsicObjects, or
    Failure with ``errors`` in a RegistryErrorList."""
    rim = f"{{{codes.RIM}}}"
    envelope = etree.Element(f"{{{codes.SOAP}}}Envelope", nsmap={"soap": codes.SOAP, "wsa": codes.WSA,
                                                                  "query": codes.QUERY, "rim": codes.RIM})
    header = etree.SubElement(envelope, f"{{{codes.SOAP}}}Header")
    etree.SubElement(header, f"{{{codes.WSA}}}Action").text = codes.ACTION_ITI18_RESPONSE
    etree.SubElement(header, f"{{{codes.WSA}}}RelatesTo").text = relates_to
    response = etree.SubElement(etree.SubElement(envelope, f"{{{codes.SOAP}}}Body"),
                                f"{{{codes.QUERY}}}AdhocQueryResponse",
                                status=codes.FAILURE if errors else codes.SUCCESS)
    if errors:
        error_list = etree.SubElement(response, f"{{{codes.RS}}}RegistryErrorList")
        for error in errors:
            etree.SubElement(error_list, f"{{{codes.RS}}}RegistryError", errorCode=error.code,
                             codeContext=error.context, severity=error.severity or codes.SEVERITY_ERROR,
                             location=error.location)
    objects = etree.SubElement(response, f"{rim}RegistryObjectList")
    for e in entries:
        node = etree.SubElement(objects, f"{rim}ExtrinsicObject", id=e.entry_uuid, lid=e.entry_uuid, status=e.status,
                                objectType=codes.DOCUMENT_ENTRY, mimeType=e.mime_type)
        _slot(node, "hash", e.hash)
        if e.size is not None:
            _slot(node, "size", str(e.size))
        coded = [(scheme, getattr(e, name)) for name, scheme in CODED.items()]
        coded += [(codes.DE_CONFIDENTIALITY, code) for code in e.confidentiality]
        for index, (scheme, code) in enumerate(coded):
            etree.SubElement(node, f"{rim}Classification", classificationScheme=scheme, classifiedObject=e.entry_uuid,
                             nodeRepresentation=code, id=f"{e.entry_uuid}-c{index}")
        for scheme, value, suffix in ((codes.DE_PATIENT_ID, e.patient_id, "pid"), (codes.DE_UNIQUE_ID, e.unique_id,
                                                                                    "uid")):
            etree.SubElement(node, f"{rim}ExternalIdentifier", identificationScheme=scheme, value=value,
                             registryObject=e.entry_uuid, id=f"{e.entry_uuid}-{suffix}")
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
