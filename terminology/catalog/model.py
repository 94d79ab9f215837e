"""The laboratory's analysis catalogue: chapters, orderable exams and result analyses.

Immutable dataclasses: a change (a LOINC import, a manual edit) yields a new ``Catalog``, so a
half-applied import cannot exist in memory. Building a ``Catalog`` checks its rules (unique
codes, references that resolve, LOINC check digits, UCUM units, sane intervals) and fails with
the path of the first offending field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from terminology.errors import InvalidCatalog, UnknownCatalogCode
from terminology.loinc import is_valid_loinc
from terminology.ucum import ucum_error

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")


class ResultType(StrEnum):
    NUMERIC = "numeric"
    CODED = "coded"
    TEXT = "text"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Target(StrEnum):
    """The kinds of catalogue element that carry a LOINC code (LOINC_4 to LOINC_6)."""

    CHAPTER = "chapter"
    SUBCHAPTER = "subchapter"
    EXAM = "exam"
    ANALYSIS = "analysis"


@dataclass(frozen=True)
class LoincAssignment:
    """The LOINC code of one element, with the dates kept as a trace (SGL.LOI.09)."""

    code: str
    display: str
    created: datetime
    modified: datetime
    source: str


@dataclass(frozen=True)
class SubChapter:
    code: str
    label: str
    loinc: LoincAssignment | None = None


@dataclass(frozen=True)
class Chapter:
    code: str
    label: str
    subchapters: tuple[SubChapter, ...] = ()
    loinc: LoincAssignment | None = None


@dataclass(frozen=True)
class Specimen:
    """A specimen type ("milieu"): local code, French label, LOINC system axis, HL7 table 0487 code."""

    code: str
    label: str
    loinc_system: str
    hl7_code: str


@dataclass(frozen=True)
class Container:
    code: str
    label: str


@dataclass(frozen=True)
class Unit:
    """A UCUM code and the label printed on reports (``umol/L`` / ``µmol/L``)."""

    code: str
    label: str


@dataclass(frozen=True)
class LoincParts:
    """The SGL's own description of an analysis along the LOINC axes, sent to the transcoder."""

    component: str
    property: str = ""
    time: str = "Pt"
    scale: str = "Qn"
    method: str = ""


@dataclass(frozen=True)
class ReferenceInterval:
    """A normal range; ``sex`` None means both, ages in years, bounds inclusive."""

    low: Decimal | None
    high: Decimal | None
    sex: Sex | None = None
    age_min: Decimal | None = None
    age_max: Decimal | None = None


@dataclass(frozen=True)
class InstrumentCode:
    analyzer: str
    code: str


@dataclass(frozen=True)
class Analyzer:
    code: str
    label: str
    discipline: str


@dataclass(frozen=True)
class Analysis:
    code: str
    label: str
    chapter: str
    specimen: str
    parts: LoincParts
    result_type: ResultType = ResultType.NUMERIC
    subchapter: str | None = None
    synonyms: tuple[str, ...] = ()
    unit: Unit | None = None
    alt_units: tuple[Unit, ...] = ()
    decimals: int | None = None
    reference_intervals: tuple[ReferenceInterval, ...] = ()
    critical_low: Decimal | None = None
    critical_high: Decimal | None = None
    cofrac: bool = False
    instrument_codes: tuple[InstrumentCode, ...] = ()
    nabm: tuple[str, ...] = ()
    loinc: LoincAssignment | None = None


@dataclass(frozen=True)
class Exam:
    """An orderable exam ("examen prescriptible") grouping result analyses."""

    code: str
    label: str
    chapter: str
    specimen: str
    container: str
    analyses: tuple[str, ...]
    subchapter: str | None = None
    synonyms: tuple[str, ...] = ()
    nabm: tuple[str, ...] = ()
    loinc: LoincAssignment | None = None


@dataclass(frozen=True)
class Catalog:
    chapters: tuple[Chapter, ...]
    specimens: tuple[Specimen, ...]
    containers: tuple[Container, ...]
    analyzers: tuple[Analyzer, ...]
    analyses: tuple[Analysis, ...]
    exams: tuple[Exam, ...]

    def __post_init__(self) -> None:
        _validate(self)

    @cached_property
    def _index(self) -> dict[Target, dict[str, object]]:
        return {
            Target.CHAPTER: {c.code: c for c in self.chapters},
            Target.SUBCHAPTER: {s.code: s for c in self.chapters for s in c.subchapters},
            Target.EXAM: {e.code: e for e in self.exams},
            Target.ANALYSIS: {a.code: a for a in self.analyses},
        }

    def find(self, target: Target, code: str) -> object | None:
        """The element of that kind with that local code, or None."""
        return self._index[target].get(code)

    def get(self, target: Target, code: str) -> object:
        element = self.find(target, code)
        if element is None:
            raise UnknownCatalogCode(f"no {target} with local code {code!r}", expression=f"{target}:{code}")
        return element

    def analysis(self, code: str) -> Analysis:
        found = self.get(Target.ANALYSIS, code)
        assert isinstance(found, Analysis)
        return found

    def exam(self, code: str) -> Exam:
        found = self.get(Target.EXAM, code)
        assert isinstance(found, Exam)
        return found

    def chapter_of(self, subchapter_code: str) -> Chapter:
        for chapter in self.chapters:
            if any(s.code == subchapter_code for s in chapter.subchapters):
                return chapter
        raise UnknownCatalogCode(f"no sub-chapter {subchapter_code!r}",
                                 expression=f"subchapter:{subchapter_code}")


def _validate(catalog: Catalog) -> None:
    """Raise ``InvalidCatalog`` at the first broken rule, naming the element and the field."""
    seen: dict[str, str] = {}

    def unique(code: str, where: str) -> None:
        if not _CODE.fullmatch(code):  # also a valid FHIR id once prefixed
            raise InvalidCatalog(f"local code {code!r} must be 1-40 ASCII letters, digits or '-'",
                                 expression=where)
        if code in seen:
            raise InvalidCatalog(f"local code {code!r} is used twice ({seen[code]})", expression=where)
        seen[code] = where

    subchapters: dict[str, str] = {}
    for chapter in catalog.chapters:
        unique(chapter.code, f"chapter:{chapter.code}")
        _check_assignment(chapter.loinc, f"chapter:{chapter.code}.loinc")
        for sub in chapter.subchapters:
            unique(sub.code, f"subchapter:{sub.code}")
            _check_assignment(sub.loinc, f"subchapter:{sub.code}.loinc")
            subchapters[sub.code] = chapter.code
    chapters = {c.code for c in catalog.chapters}
    specimens = {s.code for s in catalog.specimens}
    containers = {c.code for c in catalog.containers}
    analyzers = {a.code for a in catalog.analyzers}
    for analysis in catalog.analyses:
        where = f"analysis:{analysis.code}"
        unique(analysis.code, where)
        _check_placement(analysis.chapter, analysis.subchapter, chapters, subchapters, where)
        _check_ref(analysis.specimen, specimens, f"{where}.specimen")
        _check_assignment(analysis.loinc, f"{where}.loinc")
        _check_units(analysis, where)
        for ic in analysis.instrument_codes:
            _check_ref(ic.analyzer, analyzers, f"{where}.instrument_codes")
        for i, interval in enumerate(analysis.reference_intervals):
            _check_interval(interval, f"{where}.reference_intervals[{i}]")
        low, high = analysis.critical_low, analysis.critical_high
        if low is not None and high is not None and low > high:
            raise InvalidCatalog("critical low limit is above the critical high limit", expression=where)
    analysis_codes = {a.code for a in catalog.analyses}
    for exam in catalog.exams:
        where = f"exam:{exam.code}"
        unique(exam.code, where)
        _check_placement(exam.chapter, exam.subchapter, chapters, subchapters, where)
        _check_ref(exam.specimen, specimens, f"{where}.specimen")
        _check_ref(exam.container, containers, f"{where}.container")
        _check_assignment(exam.loinc, f"{where}.loinc")
        if not exam.analyses:
            raise InvalidCatalog("an orderable exam needs at least one analysis",
                                 expression=f"{where}.analyses")
        for code in exam.analyses:
            _check_ref(code, analysis_codes, f"{where}.analyses")


def _check_ref(code: str, known: set[str], where: str) -> None:
    if code not in known:
        raise InvalidCatalog(f"{code!r} is not defined in the catalogue", expression=where)


def _check_placement(chapter: str, sub: str | None, chapters: set[str], subs: dict[str, str],
                     where: str) -> None:
    _check_ref(chapter, chapters, f"{where}.chapter")
    if sub is not None and subs.get(sub) != chapter:
        raise InvalidCatalog(f"sub-chapter {sub!r} is not a sub-chapter of {chapter!r}",
                             expression=f"{where}.subchapter")


def _check_assignment(assignment: LoincAssignment | None, where: str) -> None:
    if assignment is not None and not is_valid_loinc(assignment.code):
        raise InvalidCatalog(f"LOINC code {assignment.code!r} fails its check digit", expression=where)


def _check_units(analysis: Analysis, where: str) -> None:
    if analysis.result_type is ResultType.NUMERIC and analysis.unit is None:  # INR too: {INR}
        raise InvalidCatalog("a numeric analysis needs a main unit", expression=f"{where}.unit")
    for i, unit in enumerate(((analysis.unit,) if analysis.unit else ()) + analysis.alt_units):
        problem = ucum_error(unit.code)
        if problem:
            raise InvalidCatalog(f"unit is not UCUM: {problem}", expression=f"{where}.units[{i}]")


def _check_interval(interval: ReferenceInterval, where: str) -> None:
    if interval.low is None and interval.high is None:
        raise InvalidCatalog("a reference interval needs a low or a high bound", expression=where)
    if interval.low is not None and interval.high is not None and interval.low > interval.high:
        raise InvalidCatalog("reference interval low bound is above its high bound", expression=where)
    if interval.age_min is not None and interval.age_max is not None and interval.age_min > interval.age_max:
        raise InvalidCatalog("reference interval age range is inverted", expression=where)
