"""LOINC assignments as changes: computed by an import or a manual edit, applied all at once.

A ``LoincChange`` says "give this chapter / sub-chapter / exam / analysis that LOINC code" and
remembers the assignment it was computed against. ``apply_changes`` is pure: it returns a new
``Catalog`` and refuses the whole batch if one element moved in between, so the server can
apply the result in one transaction or not at all.

Dates (SGL.LOI.09): the first code given to an element is stamped ``created`` = ``modified`` =
now; a different code later keeps ``created`` and moves ``modified``; the same code again is a
no-op and keeps both dates. The codes replaced over time stay in the resource history of the
FHIR store, one version per change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from resources.errors import InvalidInput
from terminology.catalog.model import Analysis, Catalog, Chapter, Exam, LoincAssignment, SubChapter, Target
from terminology.errors import StaleLoincChange
from terminology.loinc import check_loinc

__all__ = ["LoincChange", "apply_changes", "current_assignment", "manual_change"]

_E = TypeVar("_E", Chapter, SubChapter, Exam, Analysis)


@dataclass(frozen=True)
class LoincChange:
    target: Target
    local_code: str
    loinc_code: str
    loinc_display: str
    source: str
    previous: LoincAssignment | None
    line: int | None = None

    def is_noop(self) -> bool:
        return self.previous is not None and self.previous.code == self.loinc_code \
            and self.previous.display == self.loinc_display


def current_assignment(catalog: Catalog, target: Target, local_code: str) -> LoincAssignment | None:
    """The LOINC assignment an element carries now (raises ``UnknownCatalogCode`` if none such)."""
    element = catalog.get(target, local_code)
    assert isinstance(element, Chapter | SubChapter | Exam | Analysis)
    return element.loinc


def manual_change(catalog: Catalog, target: Target, local_code: str, loinc_code: str, display: str,
                  author: str) -> LoincChange:
    """A LOINC code typed in the UI (SGL.LOI.08), checked like an imported one."""
    code = check_loinc(loinc_code, expression=f"{target}:{local_code}.loinc")
    if not author.strip():
        raise InvalidInput("a manual LOINC edit needs its author", expression=f"{target}:{local_code}.loinc")
    previous = current_assignment(catalog, target, local_code)
    return LoincChange(target=target, local_code=local_code, loinc_code=code, loinc_display=display.strip(),
                       source=f"manual:{author.strip()}", previous=previous)


def _stamp(current: LoincAssignment | None, change: LoincChange, now: datetime) -> LoincAssignment:
    if current is not None and current.code == change.loinc_code:
        return replace(current, display=change.loinc_display or current.display)
    return LoincAssignment(code=change.loinc_code, display=change.loinc_display,
                           created=current.created if current else now, modified=now, source=change.source)


def apply_changes(catalog: Catalog, changes: list[LoincChange] | tuple[LoincChange, ...],
                  now: datetime) -> Catalog:
    """The catalogue with every change applied, or ``StaleLoincChange`` and nothing applied."""
    if now.tzinfo is None:
        raise InvalidInput("the change time must carry a UTC offset", expression="now")
    wanted: dict[tuple[Target, str], LoincChange] = {}
    for change in changes:
        if current_assignment(catalog, change.target, change.local_code) != change.previous:
            raise StaleLoincChange(
                f"the LOINC code of {change.target} {change.local_code} changed since this change was read",
                expression=f"{change.target}:{change.local_code}.loinc")
        if not change.is_noop():
            wanted[(change.target, change.local_code)] = change

    def updated(element: _E, target: Target) -> _E:
        change = wanted.get((target, element.code))
        return replace(element, loinc=_stamp(element.loinc, change, now)) if change else element

    chapters = tuple(
        updated(replace(c, subchapters=tuple(updated(s, Target.SUBCHAPTER) for s in c.subchapters)),
                Target.CHAPTER)
        for c in catalog.chapters)
    return replace(catalog, chapters=chapters,
                   exams=tuple(updated(e, Target.EXAM) for e in catalog.exams),
                   analyses=tuple(updated(a, Target.ANALYSIS) for a in catalog.analyses))
