"""Errors of the document step. Both are 422: the report's documents cannot be produced as they are.

    RuleViolation
      └── DocumentRejected   our own CDA failed the ANS validator: nothing is stored (SGL.DOC.01/03)
    Unprocessable
      └── DocumentInputError a stored resource lacks what a CR-Bio needs (the issue names the FHIR
                             element to fix, e.g. ``Practitioner.qualification``): nothing is stored
"""

from __future__ import annotations

from facades.cda import ValidationReport
from resources.errors import InvalidInput, Issue, RuleViolation, Unprocessable


class DocumentInputError(Unprocessable):
    """The writer refused the gathered resources; the answer keeps its issues (FHIR element to fix)."""

    def __init__(self, cause: InvalidInput) -> None:
        issues = [Issue(code=i.code if i.code != "invalid" else "business-rule",
                        diagnostics=f"the CR-Bio cannot be written from the stored resources: {i.diagnostics}",
                        expression=i.expression) for i in cause.issues]
        super().__init__(issues[0].diagnostics, issues=issues)


class DocumentRejected(RuleViolation):
    """The generated CDA does not conform; its findings (XPath and line) become the answer's issues."""

    def __init__(self, level: str, report: ValidationReport) -> None:
        errors = report.errors
        super().__init__("SGL.DOC.01", f"the generated CDA {level} fails validation with {len(errors)} error(s); "
                         "no document was stored and the report was not changed: "
                         + "; ".join(f"{e.message} ({e.where()})" for e in errors[:5]),
                         expression=[e.location or f"line {e.line}" for e in errors[:5]] or [level])
        self.issues += [e.to_issue() for e in errors]
