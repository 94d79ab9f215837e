"""The one table that turns what happened to a message into its acknowledgement: AA, AE or AR, the
ERR code (HL7 table 0357) and the ERR location.

Handlers never build ACKs: they return ``AckDecision.accept(*warnings)`` when the message was applied,
and raise otherwise. The MLLP server hands every exception (from its own parsing, from the handler,
a timeout) to ``decide``, which reads ``RULES`` top to bottom and takes the first class that matches:

| exception                                   | ACK | ERR-3 (table 0357)          |
|---------------------------------------------|-----|-----------------------------|
| ``PartlyProcessed`` (some results refused)  | AE  | one ERR per problem (own codes), then the warnings |
| ``UnsupportedMessage``                      | AR  | 200 unsupported type, 201 event |
| ``Hl7ContentError`` (readable, value refused) | AE | its own (101, 102, 103, 205...) |
| ``Hl7ParseError`` (unreadable, frame too big) | AR | its own (100, 101, 102, 103)  |
| ``NotFound`` (an identifier the SGL lacks)  | AE  | 204 unknown key identifier  |
| ``WriteConflict`` (concurrent writers, retries spent) | AE | 206 application record locked |
| ``Conflict`` (already held by another)      | AE  | 205 duplicate key identifier |
| ``Forbidden`` (not a partner, or a message its role may not send) | AR | 207 (no "not authorised" in 0357) |
| ``Unavailable`` (database down), timeout, anything else | AE | 207 application internal error |

The location is the error's own ``location`` (HL7 errors), else one a handler pinned with ``at``
(an identity rule raised in FHIR terms, pinned to the PID field it came from), else an HL7 path in the
error's FHIR ``expression`` (``MRG[1]-1``), else none. AE tells the sender the message was read and
may be sent again once the cause is fixed; AR that sending it again unchanged is useless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from facades.hl7v2.ack import AckCode, AckError
from facades.hl7v2.errors import (
    APPLICATION_INTERNAL_ERROR,
    APPLICATION_RECORD_LOCKED,
    DUPLICATE_KEY_IDENTIFIER,
    UNKNOWN_KEY_IDENTIFIER,
    Hl7ContentError,
    Hl7ParseError,
    UnsupportedMessage,
)
from facades.hl7v2.location import ErrorLocation, location_from_expression
from facades.hl7v2.message import Hl7Message
from resources.errors import Conflict, Forbidden, InvalidInput, NotFound, SglError, WriteConflict

_PINNED = "hl7_location"


@dataclass(frozen=True)
class AckDecision:
    """What to answer: AA (with W-severity ERR warnings), AE or AR with their ERR segments; or, for a
    query, the response message itself (an RSP^K11 answering a QBP^Q11 carries its own MSA).
    ``produced`` lists what the message wrote (``Observation/<id>``), for the inbound journal."""

    code: AckCode = "AA"
    errors: tuple[AckError, ...] = ()
    response: Hl7Message | None = None
    produced: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def respond(cls, response: Hl7Message) -> AckDecision:
        """Answer with ``response`` instead of an ACK (it must carry MSA echoing the query's MSH-10)."""
        return cls("AA", (), response)

    @classmethod
    def accept(cls, *warnings: AckError, produced: Sequence[str] = ()) -> AckDecision:
        """AA; ``warnings`` (severity W) say what was accepted with a reservation."""
        return cls("AA", warnings, produced=tuple(produced))


class PartlyProcessed(InvalidInput):
    """Some parts of a message were stored, others refused: AE with one ERR per refused part.

    Raised after the valid parts were committed (so the ACK still comes after the commit); the
    refused parts are kept by the handler (a worklist), which is why this is AE and not AR.
    """

    def __init__(self, problems: Sequence[AckError], warnings: Sequence[AckError] = (),
                 produced: Sequence[str] = ()) -> None:
        super().__init__(f"{len(problems)} part(s) of the message refused: "
                         + "; ".join(p.message for p in problems[:3]) + ("..." if len(problems) > 3 else ""))
        self.problems = tuple(problems)
        self.warnings = tuple(warnings)
        self.produced = tuple(produced)


# (exception class, ACK code, table 0357 code or None for the error's own ``code``), first match wins
RULES: tuple[tuple[type[BaseException], AckCode, int | None], ...] = (
    (UnsupportedMessage, "AR", None),
    (Hl7ContentError, "AE", None),
    (Hl7ParseError, "AR", None),
    (NotFound, "AE", UNKNOWN_KEY_IDENTIFIER),
    (WriteConflict, "AE", APPLICATION_RECORD_LOCKED),
    (Conflict, "AE", DUPLICATE_KEY_IDENTIFIER),
    (Forbidden, "AR", APPLICATION_INTERNAL_ERROR),
    (BaseException, "AE", APPLICATION_INTERNAL_ERROR),
)


def at(error: SglError, location: ErrorLocation | None) -> SglError:
    """Pin the HL7 spot of an error raised in other terms (a FHIR rule about ``Patient.identifier``
    that came from PID-3); returns the same error, to be raised."""
    if location is not None:
        setattr(error, _PINNED, location)
    return error


def location_of(error: BaseException) -> ErrorLocation | None:
    own = getattr(error, "location", None)
    if isinstance(own, ErrorLocation):
        return own
    pinned = getattr(error, _PINNED, None)
    if isinstance(pinned, ErrorLocation):
        return pinned
    if isinstance(error, SglError):
        for expression in error.expression:
            found = location_from_expression(expression)
            if found is not None:
                return found
    return None


def _text(error: BaseException) -> str:
    if isinstance(error, SglError):
        return error.diagnostics
    return str(error) or type(error).__name__


def ack_error(error: BaseException) -> AckError:
    """The ERR segment of one exception, per ``RULES``."""
    for kind, _, code in RULES:
        if isinstance(error, kind):
            own = getattr(error, "code", None)
            chosen = code if code is not None else (own if isinstance(own, int) else APPLICATION_INTERNAL_ERROR)
            return AckError(_text(error), chosen, "E", location_of(error))
    raise AssertionError("RULES ends with BaseException")


def decide(error: BaseException) -> AckDecision:
    """The answer to a message whose handling raised ``error``."""
    if isinstance(error, PartlyProcessed):
        return AckDecision("AE", (*error.problems, *error.warnings), produced=error.produced)
    code = next(ack for kind, ack, _ in RULES if isinstance(error, kind))
    return AckDecision(code, (ack_error(error),))
