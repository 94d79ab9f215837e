"""Errors shared by every layer: each one carries FHIR ``OperationOutcome`` issues.

The tree is ordered by what the caller can do about it::

    SglError                      (never raised as such)
    ├── InvalidInput              reject the input; the sender must fix it        -> 400
    │   ├── Unprocessable         well-formed but breaks a FHIR or business rule  -> 422
    │   │   └── RuleViolation     an identitovigilance / lab rule, named by id    -> 422
    │   └── UnknownParameter      a search parameter we do not support (strict)   -> 400
    ├── Forbidden                 the caller's habilitations do not allow it      -> 403
    ├── NotFound                  no such resource or version                     -> 404
    │   └── Gone                  the resource was deleted                        -> 410
    ├── Conflict                  re-read and retry                               -> 409
    │   ├── WriteConflict         a concurrent transaction won: run it again      -> 409
    │   └── PreconditionFailed    stale If-Match / ambiguous conditional          -> 412
    └── Unavailable               a remote service or the database is down: retry -> 503

Errors raised in ``resources/`` and ``facades/`` name the spot (a FHIRPath expression, an HL7
``SEG-n`` field, an ASTM record, a file line) so that the one HTTP handler in ``server/``, an HL7
NACK's ERR segment or an import report can all point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One ``OperationOutcome.issue``."""

    code: str
    diagnostics: str
    severity: str = "error"
    expression: tuple[str, ...] = field(default_factory=tuple)

    def to_fhir(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            out["expression"] = list(self.expression)
        return out


def operation_outcome(issues: list[Issue] | tuple[Issue, ...]) -> dict[str, Any]:
    """Build an ``OperationOutcome`` resource from issues."""
    return {"resourceType": "OperationOutcome", "issue": [i.to_fhir() for i in issues]}


class SglError(Exception):
    """Base class: an error that knows its FHIR issues and its HTTP status."""

    status = 500
    issue_code = "exception"

    def __init__(self, diagnostics: str, *, expression: str | list[str] | None = None,
                 issues: list[Issue] | None = None) -> None:
        super().__init__(diagnostics)
        if isinstance(expression, str):
            expression = [expression]
        self.issues: list[Issue] = issues or [
            Issue(code=self.issue_code, diagnostics=diagnostics, expression=tuple(expression or ()))
        ]

    @property
    def diagnostics(self) -> str:
        return "; ".join(i.diagnostics for i in self.issues)

    @property
    def expression(self) -> list[str]:
        return [e for i in self.issues for e in i.expression]

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


class InvalidInput(SglError):
    status = 400
    issue_code = "invalid"


class Unprocessable(InvalidInput):
    status = 422
    issue_code = "processing"


class RuleViolation(Unprocessable):
    """A named business rule (for example ``SGL.INS.29``) refuses the change."""

    issue_code = "business-rule"

    def __init__(self, rule: str, diagnostics: str, *, expression: str | list[str] | None = None) -> None:
        super().__init__(f"[{rule}] {diagnostics}", expression=expression)
        self.rule = rule


class UnknownParameter(InvalidInput):
    issue_code = "not-supported"


class Forbidden(SglError):
    status = 403
    issue_code = "forbidden"


class NotFound(SglError):
    status = 404
    issue_code = "not-found"


class Gone(NotFound):
    status = 410
    issue_code = "deleted"


class Conflict(SglError):
    status = 409
    issue_code = "conflict"


class WriteConflict(Conflict):
    """The database aborted this transaction because a concurrent one wrote the same document; running
    the whole transaction again (it then sees the winner's commit) is safe."""


class PreconditionFailed(Conflict):
    status = 412


class Unavailable(SglError):
    status = 503
    issue_code = "transient"
