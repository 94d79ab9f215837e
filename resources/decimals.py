"""A FHIR decimal kept as it was written.

FHIR R4 says the precision of a decimal is significant: ``1.50`` is not ``1.5``, and a value may have more
significant digits than a binary float holds (``123456789012345678901234.5``). A number that a float would
change is parsed into an ``ExactDecimal``: a ``float`` (so every comparison and computation keeps working and
gets a plain float back) that remembers its source text, which the JSON writer prints verbatim
(``resources.fhirjson``) and the store keeps exactly (``resources.store.decimals``). Numbers a float prints
back unchanged (``5.4``, ``100.0``, integers) stay plain ``float`` / ``int``: the common case costs nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson


class ExactDecimal(float):
    """A float that remembers the JSON text it came from (``text``), printed back as is.

    Arithmetic returns plain floats (``ExactDecimal("1.50") + 1 == 2.5``): a computed value has no source
    text. ``str()``, ``repr()`` and an f-string without a format spec give the digits as sent, in plain
    notation (``plain_text``: ``5.10``, not the float's ``5.1``), so a worklist label, a delta-check note or
    a log line shows what the instrument sent, and ``Decimal(str(v))`` is exact; a format spec (``:.2f``) still
    formats the float. Before, they printed the float: ``5.10`` read ``5.1`` in the delta-check note."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> ExactDecimal:
        value = super().__new__(cls, text)
        value.text = text
        return value

    def __reduce__(self) -> tuple[Any, ...]:  # copies and process-pool pickles keep the text
        return ExactDecimal, (self.text,)

    def __str__(self) -> str:  # float.__format__ with an empty spec calls it too: f"{v}" is the same text
        return plain_text(self)

    __repr__ = __str__


def json_number(text: str) -> float:
    """The JSON number ``text`` (with a fraction or an exponent) as a float: a plain one when orjson prints it
    back as written (``5.4``), else an ``ExactDecimal`` (``1.50``, ``1e3``, 25 digits)."""
    value = float(text)
    if orjson.dumps(value).decode() == text:
        return value
    return ExactDecimal(text)


def exact_number(value: Decimal) -> float:
    """A finite decimal read from another format (an HL7 v2 ``NM``, ASTM) with its digits: ``Decimal("1.50")``
    is kept as ``1.50``. ``str`` of a Decimal is always a JSON number (``1.50``, ``-0``, ``1.2E-7``)."""
    return json_number(str(value))


def plain_text(value: ExactDecimal) -> str:
    """The digits as sent, in plain notation for formats that take no exponent (an HL7 v2 ``NM``, a CDA ``PQ``
    value as the CI-SIS examples write it): ``1.50`` -> ``1.50``, ``1.0E-3`` -> ``0.0010`` (the same two
    significant digits), 25 digits kept, ``-0`` -> ``-0``."""
    return format(Decimal(value.text), "f")

