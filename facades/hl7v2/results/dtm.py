"""HL7 v2 DTM values as FHIR ``dateTime`` strings, with their precision kept.

``20261126101502+0100`` -> ``2026-11-26T10:15:02+01:00``; ``20261126`` -> ``2026-11-26``. A time
without a UTC offset cannot be a FHIR dateTime (seconds need a zone); analyzers rarely send one,
so the time is read in the lab's zone (``zone``, Europe/Paris by default, summer time included).
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from facades.hl7v2.errors import DATA_TYPE_ERROR, ErrorLocation, Hl7ParseError

LAB_ZONE = ZoneInfo("Europe/Paris")
_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(?:(\d{2})(\d{2})?(\d{2})?(?:\.\d{1,4})?)?([+-]\d{4})?$")


def fhir_datetime(value: str, location: ErrorLocation, *, zone: tzinfo = LAB_ZONE) -> str:
    """The FHIR dateTime of an HL7 DTM ('' stays ''); raises ``Hl7ParseError`` (102) naming the field."""
    if not value:
        return ""
    match = _DTM.match(value.strip())
    if match is None:
        raise Hl7ParseError(f"{value!r} is not an HL7 date/time (YYYYMMDDHHMMSS[+ZZZZ])", location,
                            code=DATA_TYPE_ERROR)
    year, month, day, hour, minute, second, offset = match.groups()
    if month and not 1 <= int(month) <= 12 or day and not 1 <= int(day) <= 31:
        raise Hl7ParseError(f"{value!r} is not a valid calendar date", location, code=DATA_TYPE_ERROR)
    out = "-".join(p for p in (year, month, day) if p)
    if hour is None or day is None:
        return out
    clock = f"{hour}:{minute or '00'}:{second or '00'}"
    if offset:
        return f"{out}T{clock}{offset[:3]}:{offset[3:]}"
    try:
        local = datetime.fromisoformat(f"{out}T{clock}").replace(tzinfo=zone)
    except ValueError as exc:
        raise Hl7ParseError(f"{value!r} is not a valid date/time: {exc}", location, code=DATA_TYPE_ERROR) from exc
    return local.isoformat()
