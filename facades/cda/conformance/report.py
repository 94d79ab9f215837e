"""The outcome of a CDA conformance check: findings, a verdict, an OperationOutcome, a text report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from resources.errors import Issue, operation_outcome

Severity = Literal["error", "warning", "info"]
_ISSUE_CODE = {"error": "business-rule", "warning": "informational", "info": "informational"}


@dataclass(frozen=True)
class Finding:
    """One failed assert (or XSD error): what, where, and which rule said so."""

    severity: Severity
    source: str  # "xsd" or the schematron file name
    message: str
    location: str = ""  # XPath with the cda: prefix, or "" when only the line is known
    line: int | None = None
    test: str | None = None  # the assert's XPath test
    rule_id: str | None = None
    pattern: str | None = None
    see: str | None = None

    def where(self) -> str:
        parts = [self.location] if self.location else []
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts) or "document"

    def to_issue(self) -> Issue:
        code = "structure" if self.source == "xsd" else _ISSUE_CODE[self.severity]
        expression = tuple(e for e in (self.location or (f"line {self.line}" if self.line else ""),) if e)
        severity = "information" if self.severity == "info" else self.severity
        return Issue(code=code, severity=severity, diagnostics=f"[{self.source}] {self.message}",
                     expression=expression)


@dataclass(frozen=True)
class ValidationReport:
    """Everything the XSD and the schematrons found on one document."""

    level: Literal["N3", "N1"]
    checked: tuple[str, ...]  # "xsd" and the schematron file names, in the order run
    findings: tuple[Finding, ...] = ()
    extracted_from: str | None = None  # the wrapper's root when the CDA was embedded
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_operation_outcome(self) -> dict[str, Any]:
        """An OperationOutcome; a clean document gets one ``informational`` issue, as FHIR asks."""
        issues = [f.to_issue() for f in self.findings]
        if not issues:
            issues = [Issue(code="informational", severity="information",
                            diagnostics=f"CDA {self.level} conforms: {', '.join(self.checked)}")]
        return operation_outcome(issues)


def format_report(report: ValidationReport) -> str:
    """A plain-text report: verdict, then every finding grouped by source, errors first."""
    verdict = "CONFORME" if report.ok else "NON CONFORME"
    counts = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    lines = [f"CDA {report.level}: {verdict} — {counts}",
             f"checked: {', '.join(report.checked)}"]
    if report.extracted_from:
        lines.append(f"ClinicalDocument extracted from a <{report.extracted_from}> wrapper")
    order = {"error": 0, "warning": 1, "info": 2}
    for source in report.checked:
        found = sorted((f for f in report.findings if f.source == source), key=lambda f: order[f.severity])
        if not found:
            continue
        lines.append("")
        lines.append(f"== {source}")
        for f in found:
            lines.append(f"{f.severity.upper():7} {f.where()}")
            lines.append(f"        {f.message}")
            if f.test:
                lines.append(f"        test: {f.test}")
    return "\n".join(lines) + "\n"
