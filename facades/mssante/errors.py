"""MSSanté errors, placed in the shared tree by what the caller can do::

    InvalidInput
    └── MssMessageInvalid     the mail cannot be built as asked (no qualified INS for a patient
                              address, no recipient, bad address): fix the data, do not retry
    Unavailable
    ├── MssTlsRefused         the operator failed our TLS rules (version, cipher suite, chain to
                              IGC-Santé, validity, revocation): nothing was sent; retry only
                              once the operator (or our trust configuration) is fixed
    ├── MssUnreachable        network down, timeout, SMTP/IMAP error: retry later
    └── MssRejected           the operator refused the message or some recipients (SMTP 5xx)

Every error's text is the reason a delivery stays pending; it never contains a key or an INS.
"""

from __future__ import annotations

from resources.errors import InvalidInput, Unavailable


class MssMessageInvalid(InvalidInput):
    """A mail the client refuses to build or send; ``expression`` names the faulty field."""


class MssTlsRefused(Unavailable):
    """The TLS session with the operator broke an MSSanté rule (SGL.MSS.01–06): connection dropped."""


class MssUnreachable(Unavailable):
    """The operator could not be reached or answered with a temporary error."""


class MssRejected(Unavailable):
    """The operator refused the message (SMTP 5xx) for the listed recipients."""

    def __init__(self, diagnostics: str, refused: dict[str, str] | None = None) -> None:
        super().__init__(diagnostics)
        self.refused = dict(refused or {})
