"""Errors of the PAM-FR identity reader, each naming its HL7 spot so the NACK's ERR can point at it.

The tree, ordered by what the sender can do (bases from ``resources.errors`` and ``facades.hl7v2``)::

    InvalidInput
    ├── Hl7ParseError          a field is missing or unreadable (PID-3 without IPP, PID-7 not a date):
    │                          fix the message; HL7 table 0357 code 101/102/103 and the location
    └── Unprocessable
        └── RuleViolation
            └── PamRuleViolation   the message is readable but breaks a Ségur rule (a wrong INS key,
                                   SGL.INS.08): AE with the rule id and the location

``location_of`` reads an HL7 path expression back (server errors about MRG-1 carry one), and maps
what a write rule names in FHIR terms (``Patient.identifier``) back to the PID
field it came from, so a rule raised by the server's identitovigilance rule is answered at PID-3.
"""

from __future__ import annotations

import re

from facades.hl7v2 import ErrorLocation, Hl7ParseError
from facades.hl7v2.errors import (  # HL7 table 0357 codes, shared with the server's ACKs
    APPLICATION_INTERNAL_ERROR,
    DATA_TYPE_ERROR,
    DUPLICATE_KEY_IDENTIFIER,
    REQUIRED_FIELD_MISSING,
    TABLE_VALUE_NOT_FOUND,
    UNKNOWN_KEY_IDENTIFIER,
    UNSUPPORTED_EVENT_CODE,
)
from resources.errors import RuleViolation, SglError

__all__ = [
    "APPLICATION_INTERNAL_ERROR", "DATA_TYPE_ERROR", "DUPLICATE_KEY_IDENTIFIER", "REQUIRED_FIELD_MISSING",
    "TABLE_VALUE_NOT_FOUND", "UNKNOWN_KEY_IDENTIFIER", "UNSUPPORTED_EVENT_CODE", "PamRuleViolation", "field_error",
    "location_of",
]

# FHIRPath of a Patient element -> the PID field that feeds it; extensions are told apart by name.
_PID_FIELD_OF = (
    ("Patient.extension", 32, ("identity-reliability", "identityReliability", "identityStatus")),
    ("Patient.extension", 11, ("birthPlace",)),
    ("Patient.identifier", 3, ()),
    ("Patient.name", 5, ()),
    ("Patient.birthDate", 7, ()),
    ("Patient.gender", 8, ()),
    ("Patient.address", 11, ()),
    ("Patient.link", 3, ()),
)

# ErrorLocation.expression() read back: SEG[seq]-field[rep].comp.sub
_HL7_PATH = re.compile(r"^([A-Z][A-Z0-9]{2})\[(\d+)\](?:-(\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?)?$")


class PamRuleViolation(RuleViolation):
    """A Ségur/RNIV rule broken by the message itself; ``location`` is the HL7 spot."""

    def __init__(self, rule: str, diagnostics: str, location: ErrorLocation) -> None:
        super().__init__(rule, diagnostics, expression=location.expression())
        self.location = location


def field_error(diagnostics: str, location: ErrorLocation, code: int = DATA_TYPE_ERROR) -> Hl7ParseError:
    """A content error at ``location`` (HL7 table 0357 ``code``)."""
    return Hl7ParseError(diagnostics, location, code=code)


def location_of(error: SglError) -> ErrorLocation | None:
    """The HL7 spot of an error: its own location, an HL7 path expression (``MRG[1]-1[1].1``), else the
    PID field behind its FHIR expression."""
    own = getattr(error, "location", None)
    if isinstance(own, ErrorLocation):
        return own
    for expression in error.expression:
        if match := _HL7_PATH.match(expression):
            segment, *numbers = match.groups()
            sequence, field, repetition, component, subcomponent = (int(n) if n else None for n in numbers)
            return ErrorLocation(segment, sequence or 1, field, repetition, component, subcomponent)
        for prefix, field, names in _PID_FIELD_OF:
            if expression.startswith(prefix) and (not names or any(n in expression for n in names)):
                return ErrorLocation("PID", 1, field)
    return None
