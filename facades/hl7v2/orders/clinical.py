"""The clinical information a prescriber sends with an order (OML^O21 OBX under an OBR) as FHIR Observations.

Weight, pregnancy, current treatment, fasting: the EHR asks them at order entry and sends them as OBX after
the OBR they inform (the OBSERVATION group of the ORDER). Acknowledging them and keeping them only in the raw
journal lost what the biologist needs to interpret the result (a creatinine clearance without the weight), so
each becomes an Observation, faithful to what was sent, that the order's ServiceRequest points at from
``supportingInfo`` (the R4 element for "additional clinical information about the patient or specimen"):

- OBX-3: ``code`` (every coding, HL7 system names mapped as the results facade maps them);
- OBX-2 / OBX-5: ``value[x]`` as the declared type reads it (``results.values``: NM a quantity, CE/CWE a
  concept, ST a string...), OBX-6 its unit;
- OBX-11: ``status`` as sent (F final, C corrected, P/R/S preliminary, I/O registered);
- OBX-14: ``effectiveDateTime``; NTE after the OBX: ``note``.

What cannot be read that way is refused (``Hl7ContentError``: AE with ERR at the field), never stored
halfway: an OBX with no code or no value, a value that is not its type, a status that is not one of a
result being reported (D/W/X/N...), an OBX outside an order.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from facades.hl7v2.errors import (
    REQUIRED_FIELD_MISSING,
    TABLE_VALUE_NOT_FOUND,
    Hl7ContentError,
    Hl7ParseError,
)
from facades.hl7v2.message import Hl7Message, Segment
from facades.hl7v2.orders.values import LOCAL_TIME, fhir_datetime
from facades.hl7v2.results.values import CODE_SYSTEMS, Coding, TypedValue, codings_of, typed_value
from resources.decimals import exact_number

UCUM = CODE_SYSTEMS["UCUM"]
STATUSES = {"F": "final", "C": "corrected", "P": "preliminary", "R": "preliminary", "S": "preliminary",
            "I": "registered", "O": "registered"}
"""HL7 table 0085 -> Observation.status, for the codes that say a value is being reported."""


def clinical_observation(message: Hl7Message, obx: Segment, notes: tuple[str, ...]) -> dict[str, Any]:
    """The Observation (without id and subject: the server gives them) of one OBX under an OBR."""
    try:
        return _observation(message, obx, notes)
    except Hl7ParseError as exc:
        raise Hl7ContentError.of(exc) from exc


def _observation(message: Hl7Message, obx: Segment, notes: tuple[str, ...]) -> dict[str, Any]:
    codings = codings_of(obx.field(3))
    if not codings:
        raise Hl7ParseError("OBX-3 (what the clinical information is) is missing", message.locate(obx, 3),
                            code=REQUIRED_FIELD_MISSING)
    flag = obx.get(11).strip().upper()
    if flag not in STATUSES:
        raise Hl7ParseError(f"OBX-11 {flag!r}: a clinical information is sent as F, C, P, R, S, I or O",
                            message.locate(obx, 11), code=TABLE_VALUE_NOT_FOUND if flag else REQUIRED_FIELD_MISSING)
    where = message.locate(obx, 5)
    typed = typed_value(obx.get(2).strip().upper(), obx.field(5), where, zone=LOCAL_TIME)
    if not typed.kind:
        raise Hl7ParseError("OBX-5 is empty: a clinical information without a value", where,
                            code=REQUIRED_FIELD_MISSING)
    code: dict[str, Any] = {"coding": [_coding(c) for c in codings]}
    if obx.get("3.2"):
        code["text"] = obx.get("3.2")
    resource: dict[str, Any] = {"resourceType": "Observation", "status": STATUSES[flag], "code": code,
                                **_value(typed, obx)}
    effective = fhir_datetime(obx.get("14.1"), message.locate(obx, 14))
    if effective:
        resource["effectiveDateTime"] = effective
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return resource


def _coding(coding: Coding) -> dict[str, Any]:
    out = {"system": coding.system or f"urn:opensgl:hl7-coding-system:{coding.local_system or 'L'}",
           "code": coding.code, "display": coding.display}
    return {k: v for k, v in out.items() if v}


def _number(text: str) -> int | float:
    """An ``NM`` with its digits: ``72.50`` stays ``72.50`` (``ExactDecimal``), ``72.5`` a plain float."""
    value = Decimal(text)
    return int(value) if "." not in text else exact_number(value)


def _quantity(text: str, obx: Segment) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": _number(text)}
    unit, label, system = obx.get("6.1"), obx.get("6.2"), obx.get("6.3")
    if unit or label:
        quantity["unit"] = label or unit
    if unit and system.upper() == "UCUM":
        quantity.update(system=UCUM, code=unit)
    return quantity


def _value(typed: TypedValue, obx: Segment) -> dict[str, Any]:
    try:
        if typed.kind == "quantity":
            quantity = _quantity(typed.text, obx)
            if typed.comparator:
                quantity["comparator"] = typed.comparator
            return {"valueQuantity": quantity}
        if typed.kind == "range":
            return {"valueRange": {"low": _quantity(typed.text, obx), "high": _quantity(typed.high, obx)}}
        if typed.kind == "ratio":
            return {"valueRatio": {"numerator": {"value": _number(typed.text)},
                                   "denominator": {"value": _number(typed.high)}}}
    except InvalidOperation:  # pragma: no cover - typed_value has checked the numbers
        return {"valueString": typed.text}
    if typed.kind == "coded":
        concept: dict[str, Any] = {"coding": [_coding(c) for c in typed.codings]}
        if typed.text:
            concept["text"] = typed.text
        return {"valueCodeableConcept": {k: v for k, v in concept.items() if v}}
    if typed.kind == "time":
        return {"valueTime": typed.text}
    if typed.kind == "dateTime":
        return {"valueDateTime": typed.text}
    return {"valueString": typed.text}
