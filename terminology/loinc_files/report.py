"""The import report of a LOINC_4/5/6 file (SGL.LOI.07): one entry per finding, by line.

Blocking entries mean that nothing from their line was applied; non-blocking ones (a code
outside the "circuit de la biologie" value set, a line without a code, a legacy encoding) are
applied or harmless. The report is given to the user as a ``;`` CSV in the same dialect as the
LOINC files, and to the API as a FHIR ``OperationOutcome``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from resources.errors import Issue, operation_outcome
from terminology.loinc_files.formats import EXPORT_ENCODING, LINE_END, SEPARATOR


class Finding(StrEnum):
    """What went wrong; the value is also the FHIR issue type reported for it."""

    HEADER = "header"
    COLUMN_COUNT = "column-count"
    MALFORMED = "malformed-line"
    MISSING_VALUE = "missing-value"
    CHECK_DIGIT = "check-digit"
    MULTIPLE_LOINC = "multiple-loinc"
    UNKNOWN_LOCAL_CODE = "unknown-local-code"
    OUTSIDE_CIRCUIT = "outside-circuit"
    NO_LOINC = "no-loinc"
    ENCODING = "encoding"


_ISSUE_TYPE = {
    Finding.MULTIPLE_LOINC: "business-rule", Finding.OUTSIDE_CIRCUIT: "business-rule",
    Finding.UNKNOWN_LOCAL_CODE: "not-found", Finding.MISSING_VALUE: "required", Finding.NO_LOINC: "incomplete",
    Finding.ENCODING: "informational",
}


@dataclass(frozen=True)
class ReportEntry:
    line: int
    blocking: bool
    finding: Finding
    message: str
    column: int | None = None  # 1-based


@dataclass
class ImportReport:
    file_name: str
    file_number: int
    entries: list[ReportEntry] = field(default_factory=list)
    data_lines: int = 0
    changes: int = 0
    locations: dict[int, str] = field(default_factory=dict)  # element number -> FHIRPath (FHIR imports)

    def expression(self, entry: ReportEntry) -> str:
        """``file:line[:column]`` for a CSV file, the element's FHIRPath for a ConceptMap."""
        if entry.line in self.locations:
            return self.locations[entry.line]
        return f"{self.file_name}:{entry.line}" + (f":{entry.column}" if entry.column else "")

    def add(self, line: int, finding: Finding, message: str, *, blocking: bool = True,
            column: int | None = None) -> None:
        self.entries.append(ReportEntry(line, blocking, finding, message, column))

    @property
    def blocking(self) -> list[ReportEntry]:
        return [e for e in self.entries if e.blocking]

    @property
    def warnings(self) -> list[ReportEntry]:
        return [e for e in self.entries if not e.blocking]

    @property
    def blocked_lines(self) -> set[int]:
        return {e.line for e in self.blocking}

    def summary(self) -> str:
        item = "élément(s)" if self.locations else "ligne(s)"
        return (f"{self.file_name}: {self.data_lines} {item} lu(e)s, {len(self.blocked_lines)} {item} rejeté(e)s "
                f"(erreur bloquante), {len(self.warnings)} avertissement(s), {self.changes} code(s) LOINC à appliquer")

    def to_csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=SEPARATOR, lineterminator=LINE_END)
        writer.writerow(("Ligne", "Colonne", "Gravité", "Erreur", "Message"))
        for entry in sorted(self.entries, key=lambda e: (e.line, e.column or 0)):
            writer.writerow((entry.line, entry.column or "", "bloquante" if entry.blocking else "non bloquante",
                             entry.finding.value, entry.message))
        writer.writerow(("", "", "", "résumé", self.summary()))
        return buffer.getvalue()

    def write_csv(self, path: Path) -> Path:
        path.write_bytes(self.to_csv_text().encode(EXPORT_ENCODING))
        return path

    def to_operation_outcome(self) -> dict[str, Any]:
        issues = [Issue(code=_ISSUE_TYPE.get(e.finding, "invalid"), diagnostics=e.message,
                        severity="error" if e.blocking else "warning", expression=(self.expression(e),))
                  for e in sorted(self.entries, key=lambda e: (e.line, e.column or 0))]
        issues.append(Issue(code="informational", diagnostics=self.summary(), severity="information"))
        return operation_outcome(issues)
