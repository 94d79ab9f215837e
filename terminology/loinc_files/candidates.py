"""What every LOINC import shares: one code per element, the circuit check, the change list.

A reader (CSV ``importer`` or FHIR ``fhir_import``) turns each line or element into candidates
``(element, LOINC code)`` or a ``LineError``; ``to_changes`` then keeps one code per element
and builds the ``LoincChange`` list with the current assignments as ``previous``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from terminology.catalog.changes import LoincChange, current_assignment
from terminology.catalog.model import Catalog, Target
from terminology.loinc import is_loinc_shaped, loinc_check_digit
from terminology.loinc_files.report import Finding, ImportReport

_CODE_SPLIT = re.compile(r"[\s,|/+]+")


@dataclass(frozen=True)
class ImportResult:
    changes: tuple[LoincChange, ...]
    report: ImportReport


@dataclass(frozen=True)
class Candidate:
    target: Target
    local_code: str
    loinc: str
    display: str
    line: int


class LineError(Exception):
    """A blocking finding on the line (or element) being read; nothing from it is applied."""

    def __init__(self, finding: Finding, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.finding, self.message, self.column = finding, message, column


def one_loinc(values: Iterable[str], where: str, column: int | None = None) -> str | None:
    """The single LOINC code among ``values`` (cells may hold several), None if there is none."""
    tokens = [t for value in values for t in _CODE_SPLIT.split(value) if t]
    if not tokens:
        return None
    if len(set(tokens)) > 1:
        raise LineError(Finding.MULTIPLE_LOINC, f"plusieurs codes LOINC ({', '.join(tokens)}) dans {where} : "
                        "un seul code par élément", column)
    code = tokens[0]
    if not is_loinc_shaped(code):
        raise LineError(Finding.MALFORMED, f"{code!r} n'est pas un code LOINC ({where})", column)
    number, digit = code.split("-")
    if loinc_check_digit(number) != int(digit):
        raise LineError(Finding.CHECK_DIGIT, f"code LOINC {code} : clé {digit} fausse, attendue "
                        f"{loinc_check_digit(number)} ({where})", column)
    return code


def record(report: ImportReport, line: int, found: list[Candidate], circuit: set[str] | frozenset[str]) -> None:
    """Non-blocking findings of a good line: nothing to apply, codes outside the circuit (SGL.LOI.07)."""
    if not found:
        report.add(line, Finding.NO_LOINC, "aucun code LOINC fourni : rien à appliquer", blocking=False)
    for cand in found:
        if cand.loinc not in circuit:
            report.add(line, Finding.OUTSIDE_CIRCUIT, f"code LOINC {cand.loinc} absent du jeu de valeurs "
                       "« circuit de la biologie » (non bloquant : appliqué)", blocking=False)


def _consolidate(candidates: list[Candidate], report: ImportReport) -> list[Candidate]:
    """One code per element: a second, different code for it blocks its line and drops the element."""
    first: dict[tuple[Target, str], Candidate] = {}
    dropped: set[tuple[Target, str]] = set()
    for cand in candidates:
        key = (cand.target, cand.local_code)
        kept = first.setdefault(key, cand)
        if kept.loinc != cand.loinc:
            dropped.add(key)
            report.add(cand.line, Finding.MULTIPLE_LOINC,
                       f"plusieurs codes LOINC pour {cand.target} {cand.local_code} : {kept.loinc} (ligne "
                       f"{kept.line}) et {cand.loinc} ; aucun n'est appliqué")
    blocked = report.blocked_lines
    return [c for key, c in first.items() if key not in dropped and c.line not in blocked]


def to_changes(candidates: list[Candidate], catalog: Catalog, report: ImportReport,
               source: Callable[[int], str]) -> ImportResult:
    """The changes to apply (no-ops left out); ``source(line)`` names where each came from."""
    changes = []
    for cand in _consolidate(candidates, report):
        change = LoincChange(target=cand.target, local_code=cand.local_code, loinc_code=cand.loinc,
                             loinc_display=cand.display, source=source(cand.line), line=cand.line,
                             previous=current_assignment(catalog, cand.target, cand.local_code))
        if not change.is_noop():
            changes.append(change)
    report.changes = len(changes)
    return ImportResult(tuple(changes), report)
