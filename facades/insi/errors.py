"""INSi errors, placed in the shared tree by what the caller can do::

    InvalidInput
    ├── InsiRequestInvalid     our query cannot be sent as is (empty name, bad date): fix the input
    └── Unprocessable
        └── InsiFault          the INSi answered a SOAP fault (unknown software, access level,
                               malformed request): show the code and reason, do not retry blindly
    Unavailable
    ├── InsiUnreachable        network, TLS handshake (certificate refused), timeout, HTTP error: retry
    └── InsiAnswerUnreadable   the answer is not a SOAP envelope we can read: retry, then report

A fault whose ``siram:Erreur`` severity is ``fatale`` with a "temporarily inaccessible" meaning is
still an :class:`InsiFault`; its ``code`` lets the caller decide to retry later.
"""

from __future__ import annotations

from resources.errors import InvalidInput, Unavailable, Unprocessable


class InsiRequestInvalid(InvalidInput):
    """A query that the client refuses to send; ``expression`` names the query field."""


class InsiFault(Unprocessable):
    """A SOAP 1.2 fault from the INSi, with its SOAP code/subcode and the ``siram:Erreur`` detail."""

    def __init__(
        self, *, soap_code: str, subcode: str, reason: str, error_code: str, severity: str, detail: str
    ) -> None:
        text = f"INSi fault {subcode or soap_code}"
        if error_code:
            text += f"/{error_code}"
        text += f" ({severity or 'erreur'}): {reason}"
        if detail and detail != reason:
            text += f" — {detail}"
        super().__init__(text, expression="Envelope/Body/Fault")
        self.soap_code = soap_code
        self.subcode = subcode
        self.reason = reason
        self.error_code = error_code
        self.severity = severity
        self.detail = detail


class InsiUnreachable(Unavailable):
    """The INSi could not be reached or refused the connection (TLS, HTTP, timeout)."""


class InsiAnswerUnreadable(Unavailable):
    """The INSi answered something that is not a readable SOAP envelope or ``RESULTAT``."""
