"""RegistryResponse and SOAP faults: written by the simulator, read and classified by the client.

Classification (what the outbox does next): Success -> delivered; Failure whose errors are all in
:data:`facades.dmp.codes.TRANSIENT_ERRORS` -> :class:`DmpBusy` (retry); Failure with any other error
-> :class:`DmpRejected` (permanent, a failure Task); only ``XDSDuplicateUniqueIdInRegistry`` errors ->
the documents are already registered (a resend after a lost answer): delivered. A SOAP fault whose
code is ``soap:Receiver`` is transient, ``soap:Sender`` permanent. Anything else unreadable ->
:class:`DmpAnswerUnreadable` (retry).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from facades.dmp import codes
from facades.dmp.errors import DmpAnswerUnreadable, DmpBusy, DmpRejected, RegistryError
from facades.dmp.query import FoundEntry, read_entries
from resources.outside_xml import parse_outside_xml


@dataclass(frozen=True)
class Answer:
    """A Success answer; ``duplicates`` is true when the registry already held every document."""

    duplicates: bool
    warnings: tuple[RegistryError, ...]
    entries: tuple[FoundEntry, ...] = ()  # ITI-18: the DocumentEntries of the answer

    @property
    def found(self) -> dict[str, str]:
        """ITI-18: uniqueId -> availabilityStatus."""
        return {e.unique_id: e.status for e in self.entries}


def parse_xml(data: bytes, what: str) -> etree._Element:
    try:
        return parse_outside_xml(data)
    except etree.XMLSyntaxError as exc:
        raise DmpAnswerUnreadable(f"the DMP answer is not XML ({what}): {exc}") from exc


def read_response(envelope: bytes) -> Answer:
    """Interpret a SOAP envelope answering ITI-41 or ITI-57; raises the DMP error it stands for."""
    root = parse_xml(envelope, "SOAP envelope")
    body = root.find(f"{{{codes.SOAP}}}Body")
    if root.tag != f"{{{codes.SOAP}}}Envelope" or body is None:
        raise DmpAnswerUnreadable(f"the DMP answer is not a SOAP 1.2 envelope (root {root.tag})")
    fault = body.find(f"{{{codes.SOAP}}}Fault")
    if fault is not None:
        _raise_fault(fault)
    response = body.find(f"{{{codes.RS}}}RegistryResponse")
    if response is None:
        response = body.find(f"{{{codes.QUERY}}}AdhocQueryResponse")
    if response is None:
        raise DmpAnswerUnreadable("the SOAP body holds no rs:RegistryResponse")
    errors = tuple(RegistryError(e.get("errorCode", ""), e.get("codeContext", ""), e.get("severity", ""),
                                 e.get("location", ""))
                   for e in response.iterfind(f"{{{codes.RS}}}RegistryErrorList/{{{codes.RS}}}RegistryError"))
    status = response.get("status", "")
    if status == codes.SUCCESS:
        return Answer(False, errors, read_entries(response))
    if status != codes.FAILURE:
        raise DmpAnswerUnreadable(f"unknown RegistryResponse status {status!r}")
    real = tuple(e for e in errors if e.is_error) or errors
    if real and all(e.code == codes.DUPLICATE_UNIQUE_ID for e in real):
        return Answer(True, errors)
    if real and all(e.code in codes.TRANSIENT_ERRORS for e in real):
        raise DmpBusy("DMP busy: " + "; ".join(map(str, real)), real)
    raise DmpRejected(real or (RegistryError("XDSRegistryError", "Failure without RegistryError"),))


def _raise_fault(fault: etree._Element) -> None:
    ns = {"s": codes.SOAP}
    code = (fault.findtext("s:Code/s:Value", "", ns) or "").strip()
    subcode = (fault.findtext("s:Code/s:Subcode/s:Value", "", ns) or "").strip()
    reason = (fault.findtext("s:Reason/s:Text", "", ns) or "").strip()
    error = RegistryError(subcode or code, reason)
    if code.endswith("Receiver"):
        raise DmpBusy(f"DMP SOAP fault {code} {subcode}: {reason}", (error,))
    raise DmpRejected((error,))


def registry_response(errors: list[RegistryError], action: str, relates_to: str) -> bytes:
    """A SOAP envelope with a RegistryResponse: Success when ``errors`` holds no Error severity."""
    failed = any(e.is_error for e in errors)
    envelope = etree.Element(f"{{{codes.SOAP}}}Envelope", nsmap={"soap": codes.SOAP, "wsa": codes.WSA, "rs": codes.RS})
    header = etree.SubElement(envelope, f"{{{codes.SOAP}}}Header")
    etree.SubElement(header, f"{{{codes.WSA}}}Action").text = action
    etree.SubElement(header, f"{{{codes.WSA}}}RelatesTo").text = relates_to
    response = etree.SubElement(etree.SubElement(envelope, f"{{{codes.SOAP}}}Body"), f"{{{codes.RS}}}RegistryResponse",
                                status=codes.FAILURE if failed else codes.SUCCESS)
    if errors:
        error_list = etree.SubElement(response, f"{{{codes.RS}}}RegistryErrorList")
        for e in errors:
            etree.SubElement(error_list, f"{{{codes.RS}}}RegistryError", errorCode=e.code, codeContext=e.context,
                             severity=e.severity or codes.SEVERITY_ERROR, location=e.location)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def soap_fault(code: str, subcode: str, reason: str) -> bytes:
    """A SOAP 1.2 fault (``code`` = ``Sender`` or ``Receiver``)."""
    envelope = etree.Element(f"{{{codes.SOAP}}}Envelope", nsmap={"soap": codes.SOAP})
    fault = etree.SubElement(etree.SubElement(envelope, f"{{{codes.SOAP}}}Body"), f"{{{codes.SOAP}}}Fault")
    code_el = etree.SubElement(fault, f"{{{codes.SOAP}}}Code")
    etree.SubElement(code_el, f"{{{codes.SOAP}}}Value").text = f"soap:{code}"
    if subcode:
        etree.SubElement(etree.SubElement(code_el, f"{{{codes.SOAP}}}Subcode"), f"{{{codes.SOAP}}}Value").text = subcode
    text = etree.SubElement(etree.SubElement(fault, f"{{{codes.SOAP}}}Reason"), f"{{{codes.SOAP}}}Text")
    text.text = reason
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
