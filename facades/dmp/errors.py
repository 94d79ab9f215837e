"""DMP errors, placed in the shared tree by what the delivery can do about them::

    InvalidInput
    ├── DmpRequestInvalid      our submission cannot be sent (no INS, empty document): permanent
    └── Unprocessable
        └── DmpRejected        the registry answered Failure with permanent RegistryErrors
                               (metadata, unknown patient, replace target missing): permanent
    Unavailable
    ├── DmpUnreachable         network, TLS handshake, timeout, HTTP 5xx without SOAP: retry
    ├── DmpBusy                the registry answered Failure with only transient RegistryErrors
    │                          (busy, out of resources, internal error) or a SOAP Receiver fault: retry
    └── DmpAnswerUnreadable    not XML, truncated MTOM, no RegistryResponse: retry (a resend is safe:
                               the DocumentEntry uniqueIds are stable, a duplicate is recognised)

``permanent`` tells the outbox whether to stop retrying; ``errors`` keeps every RegistryError
(code, context, severity, location) for the delivery's history.
"""

from __future__ import annotations

from dataclasses import dataclass

from resources.errors import InvalidInput, Unavailable, Unprocessable


@dataclass(frozen=True)
class RegistryError:
    """One ``rs:RegistryError`` of a RegistryResponse."""

    code: str
    context: str
    severity: str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
    location: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity.endswith(":Error")

    def __str__(self) -> str:
        return f"{self.code}: {self.context}" if self.context else self.code


class DmpError:
    """Mixin: every DMP error says whether retrying can help and keeps the registry's errors."""

    permanent: bool = True
    errors: tuple[RegistryError, ...] = ()


class DmpRequestInvalid(InvalidInput, DmpError):
    """A submission the client refuses to send; ``expression`` names the offending field."""


class DmpRejected(Unprocessable, DmpError):
    """RegistryResponse Failure whose errors will not go away by resending the same submission."""

    def __init__(self, errors: tuple[RegistryError, ...]) -> None:
        super().__init__("DMP refused the submission: " + "; ".join(map(str, errors)),
                         expression="RegistryResponse/RegistryErrorList")
        self.errors = errors


class DmpBusy(Unavailable, DmpError):
    """RegistryResponse Failure or SOAP fault that says "later" (busy, out of resources, internal error)."""

    permanent = False

    def __init__(self, diagnostics: str, errors: tuple[RegistryError, ...] = ()) -> None:
        super().__init__(diagnostics, expression="RegistryResponse")
        self.errors = errors


class DmpUnreachable(Unavailable, DmpError):
    """The DMP could not be reached or refused the connection (TLS, HTTP, timeout). ``trust_refused``: the TLS
    refusal is about a certificate (the DMP's not trusted, a name mismatch, ours refused), which retrying does not
    heal: a person must fix the configuration (the delivery still retries, the fix may come meanwhile)."""

    permanent = False

    def __init__(self, diagnostics: str, *, expression: str | None = None, trust_refused: bool = False) -> None:
        super().__init__(diagnostics, expression=expression)
        self.trust_refused = trust_refused


class DmpAnswerUnreadable(Unavailable, DmpError):
    """The DMP answered something that is not a readable SOAP RegistryResponse."""

    permanent = False
