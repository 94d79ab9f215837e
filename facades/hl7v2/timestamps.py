"""HL7 v2 date/time (DTM) values written from clocks and from FHIR ``date``/``dateTime``/``instant``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from resources.errors import InvalidInput

_FHIR_DATETIME = re.compile(
    r"^(?P<date>\d{4}(?:-\d{2}(?:-\d{2})?)?)"
    r"(?:T(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?$"
)


def hl7_timestamp(moment: datetime | None = None) -> str:
    """An HL7 DTM to the second with its UTC offset, e.g. ``20240306111154+0100`` (now by default)."""
    moment = moment or datetime.now(UTC).astimezone()
    return moment.strftime("%Y%m%d%H%M%S%z")


def from_fhir(value: str, *, expression: str) -> str:
    """A FHIR date/dateTime/instant as an HL7 DTM with the same precision (``1979-03`` -> ``197903``)."""
    match = _FHIR_DATETIME.match(value or "")
    if match is None:
        raise InvalidInput(f"{value!r} is not a FHIR date or dateTime", expression=expression)
    out = match["date"].replace("-", "")
    if match["h"]:
        out += match["h"] + match["m"] + (match["s"] or "")
        tz = match["tz"]
        if tz:
            out += "+0000" if tz == "Z" else tz.replace(":", "")
    return out
