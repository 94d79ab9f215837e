"""Errors of the HL7 v2 facade, each one able to name its spot in an ERR segment.

The tree, ordered by what the caller can do (the bases come from ``resources.errors``)::

    InvalidInput
    ├── Hl7ParseError        the message cannot be read: answer AR with the location
    │   ├── FrameTooLarge    an MLLP frame exceeds the configured maximum size
    │   ├── UnsupportedMessage  a message type or event nobody handles here: AR 200/201
    │   └── Hl7ContentError  the message is readable, one of its values is refused: AE with the location
    └── NackReceived         the peer answered AE/AR: fix the message or alert a human
    Unavailable
    └── MllpUnavailable      connection refused, reset or timed out: retry later

``ErrorLocation`` (HL7 ERL, ERR-2) lives in ``location`` so that ``message`` needs nothing from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from facades.hl7v2.location import ErrorLocation as ErrorLocation  # re-exported: older imports keep working
from resources.errors import InvalidInput, Unavailable

if TYPE_CHECKING:
    from facades.hl7v2.message import Hl7Message

# HL7 table 0357 (message error condition codes) used by this facade.
SEGMENT_SEQUENCE_ERROR = 100
REQUIRED_FIELD_MISSING = 101
DATA_TYPE_ERROR = 102
TABLE_VALUE_NOT_FOUND = 103
UNSUPPORTED_MESSAGE_TYPE = 200
UNSUPPORTED_EVENT_CODE = 201
UNSUPPORTED_PROCESSING_ID = 202
UNSUPPORTED_VERSION_ID = 203
UNKNOWN_KEY_IDENTIFIER = 204
DUPLICATE_KEY_IDENTIFIER = 205
APPLICATION_RECORD_LOCKED = 206
APPLICATION_INTERNAL_ERROR = 207

ERROR_CODE_TEXT = {
    0: "Message accepted",
    SEGMENT_SEQUENCE_ERROR: "Segment sequence error",
    REQUIRED_FIELD_MISSING: "Required field missing",
    DATA_TYPE_ERROR: "Data type error",
    TABLE_VALUE_NOT_FOUND: "Table value not found",
    UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT_CODE: "Unsupported event code",
    UNSUPPORTED_PROCESSING_ID: "Unsupported processing id",
    UNSUPPORTED_VERSION_ID: "Unsupported version id",
    UNKNOWN_KEY_IDENTIFIER: "Unknown key identifier",
    DUPLICATE_KEY_IDENTIFIER: "Duplicate key identifier",
    APPLICATION_RECORD_LOCKED: "Application record locked",
    APPLICATION_INTERNAL_ERROR: "Application internal error",
}


class Hl7ParseError(InvalidInput):
    """A message that cannot be parsed; carries its location and an HL7 table 0357 code."""

    def __init__(self, diagnostics: str, location: ErrorLocation, *, code: int = DATA_TYPE_ERROR) -> None:
        super().__init__(diagnostics, expression=location.expression())
        self.location = location
        self.code = code


class FrameTooLarge(Hl7ParseError):
    """An MLLP frame longer than the maximum; ``head`` keeps its first bytes for a best-effort NACK."""

    def __init__(self, size: int, limit: int, head: bytes) -> None:
        super().__init__(f"MLLP frame of at least {size} bytes exceeds the maximum of {limit} bytes",
                         ErrorLocation("MSH"), code=DATA_TYPE_ERROR)
        self.size = size
        self.limit = limit
        self.head = head


class NackReceived(InvalidInput):
    """The peer answered a negative acknowledgement (AE or AR); ``ack`` is the parsed answer."""

    issue_code = "processing"

    def __init__(self, ack: Hl7Message, diagnostics: str) -> None:
        super().__init__(diagnostics, expression="MSA-1")
        self.ack = ack

    @property
    def acknowledgment_code(self) -> str:
        """MSA-1 as received: AE (error, may be retried once fixed) or AR (rejected)."""
        msa = self.ack.segment("MSA")
        return msa.get(1) if msa is not None else ""


class MllpUnavailable(Unavailable):
    """The MLLP peer cannot be reached, closed the connection or did not answer in time. ``trust_refused``: an
    MLLP/TLS peer that refuses our client certificate (told by ``resources.transport.certificate_refused``: under
    TLS 1.3 that refusal otherwise looks like a connection closed before the ACK)."""

    def __init__(self, diagnostics: str, *, expression: str | None = None, trust_refused: bool = False) -> None:
        super().__init__(diagnostics, expression=expression)
        self.trust_refused = trust_refused


class Hl7ContentError(Hl7ParseError):
    """A readable message with a value the receiver refuses (a date that does not exist, an unknown
    exam, an order already stored): answered AE, since the rest of the message could be read."""

    @classmethod
    def of(cls, error: Hl7ParseError) -> Hl7ContentError:
        """The same error, classed as a content error (a handler for which nothing is unreadable)."""
        if isinstance(error, Hl7ContentError):
            return error
        return cls(error.diagnostics, error.location, code=error.code)


class UnsupportedMessage(Hl7ParseError):
    """No handler for this message type (code 200) or for this event of a known type (201)."""

    def __init__(self, diagnostics: str, *, code: int = UNSUPPORTED_MESSAGE_TYPE) -> None:
        super().__init__(diagnostics, ErrorLocation("MSH", 1, 9), code=code)

