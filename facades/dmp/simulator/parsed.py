"""Reading an incoming ITI-41 / ITI-57 back into plain values (what the simulated DMP checks and stores).

Nothing here decides whether the request is acceptable: :mod:`facades.dmp.simulator.rules` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from facades.dmp import codes

R = codes.RIM
NS = {"r": R, "s": codes.SOAP, "x": codes.XDSB, "l": codes.LCM, "w": codes.WSSE, "a": codes.WSA}


@dataclass
class ParsedEntry:
    """One ExtrinsicObject: its slots, its coded classifications (scheme -> [(code, system)]), its identifiers."""

    entry_id: str
    mime_type: str
    title: str
    slots: dict[str, list[str]]
    coded: dict[str, list[tuple[str, str]]]
    author: dict[str, list[str]]
    identifiers: dict[str, str]
    content: bytes | None = None
    logical_id: str = ""

    def code(self, scheme: str) -> str:
        values = self.coded.get(scheme, [])
        return values[0][0] if values else ""

    def slot(self, name: str) -> str:
        values = self.slots.get(name, [])
        return values[0] if values else ""


@dataclass
class ParsedSubmission:
    """The registry objects of a SubmitObjectsRequest."""

    entries: list[ParsedEntry] = field(default_factory=list)
    set_identifiers: dict[str, str] = field(default_factory=dict)
    set_present: bool = False
    associations: list[tuple[str, str, str, dict[str, str]]] = field(default_factory=list)


def _slots(node: etree._Element) -> dict[str, list[str]]:
    return {slot.get("name", ""): [v.text or "" for v in slot.iterfind("r:ValueList/r:Value", NS)]
            for slot in node.iterfind("r:Slot", NS)}


def _entry(node: etree._Element) -> ParsedEntry:
    coded: dict[str, list[tuple[str, str]]] = {}
    author: dict[str, list[str]] = {}
    for classification in node.iterfind("r:Classification", NS):
        scheme = classification.get("classificationScheme", "")
        if scheme == codes.DE_AUTHOR:
            author = _slots(classification)
            continue
        system = (_slots(classification).get("codingScheme") or [""])[0]
        coded.setdefault(scheme, []).append((classification.get("nodeRepresentation", ""), system))
    identifiers = {e.get("identificationScheme", ""): e.get("value", "")
                   for e in node.iterfind("r:ExternalIdentifier", NS)}
    title = node.find("r:Name/r:LocalizedString", NS)
    return ParsedEntry(node.get("id", ""), node.get("mimeType", ""), "" if title is None else title.get("value", ""),
                       _slots(node), coded, author, identifiers, logical_id=node.get("lid", ""))


def registry_objects(request: etree._Element) -> ParsedSubmission:
    """The entries, the submission set's identifiers and the associations of a SubmitObjectsRequest."""
    parsed = ParsedSubmission()
    for node in request.iterfind("r:RegistryObjectList/*", NS):
        local = etree.QName(node).localname
        if local == "ExtrinsicObject":
            parsed.entries.append(_entry(node))
        elif local == "RegistryPackage":
            parsed.set_present = True
            parsed.set_identifiers = {e.get("identificationScheme", ""): e.get("value", "")
                                      for e in node.iterfind("r:ExternalIdentifier", NS)}
        elif local == "Association":
            slots = {k: (v[0] if v else "") for k, v in _slots(node).items()}
            parsed.associations.append((node.get("associationType", ""), node.get("sourceObject", ""),
                                        node.get("targetObject", ""), slots))
    return parsed
