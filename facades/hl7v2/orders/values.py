"""HL7 v2 data types read into FHIR datatypes: DTM -> dateTime, EI/CX -> Identifier, XCN -> Reference.

Each reader gets the ``ErrorLocation`` of the field, so a bad value is an ``Hl7ParseError`` the
NACK can point at (ERR-2).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from facades.hl7v2.errors import REQUIRED_FIELD_MISSING, ErrorLocation, Hl7ParseError
from facades.hl7v2.message import Field

_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(?:(\d{2})(\d{2})(\d{2})?(?:\.\d{1,4})?)?([+-]\d{4})?$")
LOCAL_TIME = ZoneInfo("Europe/Paris")
"""A French sender's DTM without an offset is local time; FHIR wants an offset with every time."""


def fhir_datetime(value: str, location: ErrorLocation) -> str | None:
    """``20261126074500`` -> ``2026-11-26T07:45:00+01:00``; ``19790328`` -> ``1979-03-28``; '' -> None."""
    if not value:
        return None
    m = _DTM.match(value)
    if m is None:
        raise Hl7ParseError(f"{value!r} is not an HL7 date/time (YYYY[MM[DD[HHMM[SS]]]][+/-ZZZZ])", location)
    year, month, day, hour, minute, second, offset = m.groups()
    date = "-".join(p for p in (year, month, day) if p)
    try:
        datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError as exc:
        raise Hl7ParseError(f"{value!r} is not a valid date/time: {exc}", location) from exc
    if hour is None:
        return date
    if offset is None:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
        offset = naive.replace(tzinfo=LOCAL_TIME).strftime("%z")
    return f"{date}T{hour}:{minute}:{second or '00'}{offset[:3]}:{offset[3:]}"


def authority_system(namespace: str, oid: str) -> str:
    """The FHIR identifier system of an HL7 assigning authority: ``urn:oid:`` when it has an OID."""
    return f"urn:oid:{oid}" if oid else f"urn:opensgl:hl7-namespace:{namespace}"


def entity_identifier(field: Field, repetition: int = 1) -> dict[str, Any] | None:
    """EI (``value^namespace^oid^ISO``) -> Identifier; None when empty."""
    value = field.value(1, repetition=repetition)
    if not value:
        return None
    namespace, oid = field.value(2, repetition=repetition), field.value(3, repetition=repetition)
    if not namespace and not oid:
        return {"value": value}
    return {"system": authority_system(namespace, oid), "value": value}


def person_reference(field: Field, repetition: int = 1) -> dict[str, Any] | None:
    """XCN (``id^family^given^^^prefix^^^authority``) -> a logical Reference (identifier + display)."""
    ident = field.value(1, repetition=repetition)
    family, given, prefix = (field.value(n, repetition=repetition) for n in (2, 3, 6))
    display = " ".join(p for p in (prefix, given, family) if p)
    if not ident and not display:
        return None
    ref: dict[str, Any] = {}
    if ident:
        namespace, oid = field.value(9, 1, repetition), field.value(9, 2, repetition)
        ref["identifier"] = {"system": authority_system(namespace, oid), "value": ident} if namespace or oid \
            else {"value": ident}
    if display:
        ref["display"] = display
    return ref


def required_value(field: Field, location: ErrorLocation, what: str) -> str:
    value = field.value()
    if not value:
        raise Hl7ParseError(f"{what} is missing", location, code=REQUIRED_FIELD_MISSING)
    return value

