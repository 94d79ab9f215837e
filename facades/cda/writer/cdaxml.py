"""Small builders for CDA R2 elements (lxml), shared by the header and body writers.

They keep the writer modules declarative: ``sub(parent, "code", code=..., codeSystem=...)`` instead
of attribute bookkeeping, and they translate FHIR datatypes (instants, CodeableConcept, HumanName,
Address, ContactPoint) into their CDA forms in one place.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from resources.errors import InvalidInput

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
LAB = "urn:oid:1.3.6.1.4.1.19376.1.3.2"
NSMAP = {None: HL7, "xsi": XSI, "lab": LAB}
LOINC = "2.16.840.1.113883.6.1"
SNOMED = "2.16.840.1.113883.6.96"
UCUM_URL = "http://unitsofmeasure.org"
OID_RPPS = "1.2.250.1.71.4.2.1"
OID_STRUCTURE = "1.2.250.1.71.4.2.2"

# FHIR code system URLs -> CDA OIDs; other systems pass through when already ``urn:oid:``.
SYSTEM_OIDS = {
    "http://loinc.org": LOINC,
    "http://snomed.info/sct": SNOMED,
    UCUM_URL: "2.16.840.1.113883.6.8",
    "http://terminology.hl7.org/CodeSystem/v2-0487": "2.16.840.1.113883.18.311",
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation": "2.16.840.1.113883.5.83",
}

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_INSTANT = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?"
                      r"(Z|[+-]\d{2}:\d{2})?)?)?)?$")


def el(tag: str, **attrs: str | None) -> etree._Element:
    """A new HL7-namespace element; ``None`` attributes are left out."""
    node = etree.Element(f"{{{HL7}}}{tag}", nsmap=NSMAP)
    _set(node, attrs)
    return node


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str | None) -> etree._Element:
    """Append a child element in the HL7 namespace (``lab:`` prefix for the IHE lab extension)."""
    ns = LAB if tag.startswith("lab:") else HL7
    node = etree.SubElement(parent, f"{{{ns}}}{tag.removeprefix('lab:')}")
    _set(node, attrs)
    if text is not None:
        node.text = text
    return node


def _set(node: etree._Element, attrs: dict[str, str | None]) -> None:
    for key, value in attrs.items():
        if value is None:
            continue
        name = f"{{{XSI}}}type" if key == "xsi_type" else key.rstrip("_")
        node.set(name, value)


def templates(parent: etree._Element, *roots: str) -> None:
    """Declare conformance to the given template ids, in order."""
    for root in roots:
        sub(parent, "templateId", root=root)


def ts(value: str | None, *, expression: str) -> str:
    """FHIR date/dateTime/instant -> CDA TS (``YYYYMMDDHHMMSS+ZZZZ``), keeping its precision."""
    match = _INSTANT.match(value or "")
    if not match:
        raise InvalidInput(f"{value!r} is not a FHIR date or dateTime", expression=expression)
    year, month, day, hour, minute, second, zone = match.groups()
    out = year + (month or "") + (day or "")
    if hour:
        out += hour + minute + (second or "00")
        if zone:
            out += "+0000" if zone == "Z" else zone.replace(":", "")
    return out


def coding_of(concept: dict[str, Any] | None, *preferred: str) -> dict[str, Any] | None:
    """The first coding of a CodeableConcept in a preferred system (URL), else its first coding."""
    codings = list((concept or {}).get("coding", []))
    for system in preferred:
        for coding in codings:
            if coding.get("system") == system and coding.get("code"):
                return dict(coding)
    return dict(codings[0]) if codings and codings[0].get("code") else None


def is_oid(value: str) -> bool:
    """An ISO OID as the CDA ``uid`` type accepts it (``1.2.250.1…``; ``000897406`` is not one)."""
    return bool(_OID.match(value))


def system_oid(system: str | None) -> str | None:
    """The CDA codeSystem OID for a FHIR system URL (``urn:oid:`` systems unwrap); None when the system has no
    ISO OID, so that no invalid ``codeSystem`` is ever written."""
    if not system:
        return None
    if system.startswith("urn:oid:"):
        bare = system.removeprefix("urn:oid:")
        return bare if is_oid(bare) else None
    return SYSTEM_OIDS.get(system)


def code_el(parent: etree._Element, tag: str, coding: dict[str, Any] | None, *,
            xsi_type: str | None = None, default_display: str | None = None) -> etree._Element:
    """A CD/CE element from a FHIR Coding; no coding gives ``nullFlavor="UNK"``."""
    if not coding:
        return sub(parent, tag, nullFlavor="UNK", xsi_type=xsi_type)
    system = system_oid(coding.get("system"))
    return sub(parent, tag, xsi_type=xsi_type, code=coding.get("code"),
               displayName=coding.get("display") or default_display, codeSystem=system,
               codeSystemName="LOINC" if system == LOINC else None)


# FHIR HumanName prefixes -> CI-SIS civilité (JDV_J245, name/prefix) or titre (JDV_J246, name/suffix).
CIVILITY = {"m": "M", "m.": "M", "mr": "M", "monsieur": "M", "mme": "MME", "madame": "MME"}
TITLE = {"dr": "DR", "dr.": "DR", "docteur": "DR", "pr": "PR", "pr.": "PR", "professeur": "PR"}


def name_el(parent: etree._Element, human: dict[str, Any] | None) -> etree._Element:
    """A PN from a FHIR HumanName; civilité and titre only from the CI-SIS value sets, others dropped."""
    node = sub(parent, "name")
    human = human or {}
    words = [str(p).strip().lower() for p in [*human.get("prefix", []), *human.get("suffix", [])]]
    for civility in dict.fromkeys(CIVILITY[w] for w in words if w in CIVILITY):
        sub(node, "prefix", civility)
    for given in human.get("given", []):
        sub(node, "given", given)
    sub(node, "family", human.get("family") or "INCONNU")
    for title in dict.fromkeys(TITLE[w] for w in words if w in TITLE):
        sub(node, "suffix", title)
    return node


def addr_el(parent: etree._Element, address: dict[str, Any] | None) -> etree._Element:
    """An AD from a FHIR Address; absent gives ``nullFlavor="UNK"`` (the only null CR-BIO allows)."""
    if not address:
        return sub(parent, "addr", nullFlavor="UNK")
    node = sub(parent, "addr")
    for line in address.get("line", []):
        sub(node, "streetAddressLine", line)
    for key, tag in (("postalCode", "postalCode"), ("city", "city"), ("country", "country")):
        if address.get(key):
            sub(node, tag, address[key])
    return node


def telecom_els(parent: etree._Element, points: list[dict[str, Any]] | None, *, required: bool = True) -> None:
    """TEL elements: phone -> ``tel:``, email (MSSanté included) -> ``mailto:``."""
    written = 0
    for point in points or []:
        scheme = {"phone": "tel:", "email": "mailto:", "fax": "fax:"}.get(point.get("system", ""))
        if scheme and point.get("value"):
            use = {"work": "WP", "home": "H", "mobile": "MC"}.get(point.get("use", ""))
            sub(parent, "telecom", value=scheme + str(point["value"]), use=use)
            written += 1
    if not written and required:
        sub(parent, "telecom", nullFlavor="UNK")


def identifier_el(parent: etree._Element, identifiers: list[dict[str, Any]] | None, oid: str,
                  *, prefix: str = "") -> etree._Element | None:
    """An II for the first FHIR identifier in system ``urn:oid:<oid>``, or None."""
    for ident in identifiers or []:
        if ident.get("system") == f"urn:oid:{oid}" and ident.get("value"):
            return sub(parent, "id", root=oid, extension=prefix + str(ident["value"]))
    return None
