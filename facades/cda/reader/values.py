"""CDA datatypes -> FHIR datatypes: TS, CD/CE, PQ, IVL_PQ, ST, INT, II, AD, TEL.

Every conversion that can fail raises ``InvalidInput`` naming the element (XPath and line), so a
broken subcontractor document is refused with the spot to fix.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from resources.decimals import exact_number
from resources.errors import InvalidInput

HL7 = "urn:hl7-org:v3"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
NS = {"c": HL7}
OID_URLS = {"2.16.840.1.113883.6.1": "http://loinc.org", "2.16.840.1.113883.6.96": "http://snomed.info/sct",
            "2.16.840.1.113883.5.83": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
            "2.16.840.1.113883.18.311": "http://terminology.hl7.org/CodeSystem/v2-0487"}
UCUM = "http://unitsofmeasure.org"
_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")
_COMPARATOR = {("low", "true"): ">=", ("low", "false"): ">", ("high", "true"): "<=", ("high", "false"): "<"}


def where(node: etree._Element) -> str:
    """The element's XPath (``cda:`` prefix, positions where needed) and source line, for errors."""
    parts = []
    current: etree._Element | None = node
    while current is not None:
        qname = etree.QName(current)
        name = f"cda:{qname.localname}" if qname.namespace == HL7 else qname.localname
        parent = current.getparent()
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == current.tag]
            if len(same) > 1:
                name += f"[{same.index(current) + 1}]"
        parts.append(name)
        current = parent
    return "/" + "/".join(reversed(parts)) + f" (line {node.sourceline})"


def find(node: etree._Element, path: str) -> etree._Element | None:
    found = node.xpath(path, namespaces=NS)
    return found[0] if found else None


def text_of(node: etree._Element, path: str) -> str | None:
    found = node.xpath(path, namespaces=NS)
    return " ".join(str(found[0]).split()) if found and str(found[0]).strip() else None


def xsi_type(node: etree._Element) -> str:
    """The local name of ``xsi:type`` (``c:PQ`` and ``PQ`` both give ``PQ``)."""
    return str(node.get(XSI_TYPE, "")).rpartition(":")[2]


def date_time(value: str | None, node: etree._Element) -> str | None:
    """CDA TS -> FHIR date/dateTime, keeping the precision and the zone."""
    if not value:
        return None
    match = _TS.match(value)
    if not match:
        raise InvalidInput(f"{value!r} is not an HL7 TS date", expression=where(node))
    year, month, day, hour, minute, second, zone = match.groups()
    out = "-".join(p for p in (year, month, day) if p)
    if hour:
        out += f"T{hour}:{minute or '00'}:{second or '00'}"
        if zone:
            out += f"{zone[:3]}:{zone[3:]}"
    return out


def system_url(oid: str | None) -> str | None:
    return OID_URLS.get(oid or "") or (f"urn:oid:{oid}" if oid else None)


def decimal(value: str | None, node: etree._Element) -> float:
    """A ``REAL``/``PQ`` value with its digits (``1.50`` stays ``1.50``, FHIR decimal precision); ``NaN`` and
    ``INF`` are not numbers a result can have."""
    try:
        number = Decimal(value or "")
    except InvalidOperation:
        raise InvalidInput(f"{value!r} is not a number", expression=where(node)) from None
    if not number.is_finite():
        raise InvalidInput(f"{value!r} is not a number", expression=where(node))
    return exact_number(number)


def concept(node: etree._Element | None, narrative: dict[str, str]) -> dict[str, Any] | None:
    """CD/CE -> CodeableConcept (translations kept as extra codings, originalText as text)."""
    if node is None:
        return None
    out: dict[str, Any] = {}
    codings = []
    for coded in [node, *node.xpath("c:translation", namespaces=NS)]:
        if coded.get("code"):
            coding = {"system": system_url(coded.get("codeSystem")), "code": coded.get("code"),
                      "display": coded.get("displayName")}
            codings.append({k: v for k, v in coding.items() if v})
    if codings:
        out["coding"] = codings
    text = resolved_text(find(node, "c:originalText"), narrative)
    if text:
        out["text"] = text
    return out or None


def resolved_text(node: etree._Element | None, narrative: dict[str, str]) -> str | None:
    """The text of an originalText/text: its ``reference`` into the narrative, else its own text."""
    if node is None:
        return None
    reference = text_of(node, "c:reference/@value")
    if reference and reference.startswith("#") and reference[1:] in narrative:
        return narrative[reference[1:]]
    own = " ".join("".join(node.xpath("text()")).split())
    return own or None


def quantity(node: etree._Element) -> dict[str, Any]:
    unit = node.get("unit") or "1"
    out: dict[str, Any] = {"value": decimal(node.get("value"), node), "unit": unit, "system": UCUM, "code": unit}
    return out


def value(obs: etree._Element, narrative: dict[str, str]) -> dict[str, Any]:
    """The ``value[x]`` of an Observation from the CDA ``value`` (empty when absent)."""
    node = find(obs, "c:value")
    if node is None or node.get("nullFlavor"):
        return {}
    kind = xsi_type(node)
    if kind == "PQ":
        return {"valueQuantity": quantity(node)}
    if kind == "IVL_PQ":
        bounds = {side: find(node, f"c:{side}") for side in ("low", "high")}
        present = {side: b for side, b in bounds.items() if b is not None and b.get("value") is not None}
        if len(present) == 1:
            side, bound = next(iter(present.items()))
            comparator = _COMPARATOR[(side, bound.get("inclusive", "true"))]
            return {"valueQuantity": {**quantity(bound), "comparator": comparator}}
        return {"valueRange": {side: quantity(b) for side, b in present.items()}}
    if kind in ("CD", "CE", "CV", "CO"):
        found = concept(node, narrative)
        return {"valueCodeableConcept": found} if found else {}
    if kind in ("ST", "ED"):
        return {"valueString": " ".join("".join(node.itertext()).split())}
    if kind == "INT":
        return {"valueInteger": int(decimal(node.get("value"), node))}
    if kind == "REAL":
        return {"valueQuantity": {"value": decimal(node.get("value"), node)}}
    if kind == "BL":
        return {"valueBoolean": node.get("value") == "true"}
    if kind == "RTO":
        return {"valueString": " ".join(f"{k}={v}" for k, v in node.attrib.items() if k != XSI_TYPE)}
    raise InvalidInput(f"result value type {kind or '(none)'} is not supported", expression=where(node))


def reference_range(obs: etree._Element, narrative: dict[str, str]) -> list[dict[str, Any]]:
    node = find(obs, "c:referenceRange/c:observationRange")
    if node is None:
        return []
    out: dict[str, Any] = {}
    for side in ("low", "high"):
        bound = find(node, f"c:value/c:{side}")
        if bound is not None and bound.get("value") is not None:
            out[side] = quantity(bound)
    text = resolved_text(find(node, "c:text"), narrative)
    if text:
        out["text"] = text
    return [out] if out else []


def identifier(node: etree._Element) -> dict[str, Any]:
    out = {"system": f"urn:oid:{node.get('root')}", "value": node.get("extension")}
    return {k: v for k, v in out.items() if v and v != "urn:oid:None"}


def address(node: etree._Element | None) -> list[dict[str, Any]]:
    if node is None or node.get("nullFlavor"):
        return []
    lines = [" ".join(e.itertext()).strip() for e in node if isinstance(e.tag, str)
             and etree.QName(e).localname in ("streetAddressLine", "houseNumber", "streetName", "unitID")]
    out = {"line": [" ".join(lines)] if lines else None, "postalCode": text_of(node, "c:postalCode/text()"),
           "city": text_of(node, "c:city/text()")}
    return [{k: v for k, v in out.items() if v}]


def telecom(nodes: list[etree._Element]) -> list[dict[str, Any]]:
    out = []
    for node in nodes:
        scheme, _, rest = str(node.get("value", "")).partition(":")
        system = {"tel": "phone", "mailto": "email", "fax": "fax"}.get(scheme)
        if system and rest:
            out.append({"system": system, "value": rest})
    return out
