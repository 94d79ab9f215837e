"""Imports of LOINC_4 (chapters), LOINC_5 (orderable exams) and LOINC_6 (result analyses).

SGL.LOI.04–07. Pure: the file is read, every line checked against the catalogue, and the result
is the list of ``LoincChange`` to apply plus a line-numbered ``ImportReport``. The server applies
the changes in one transaction with ``apply_changes``.

A line with a blocking error contributes nothing: wrong column count, unparsable CSV, an empty
mandatory column, a malformed LOINC code or a wrong check digit, an unknown local code, or
several LOINC codes for one element (in one cell, in extra columns, or on two lines; in the
last case the element keeps its current code). A code outside the "circuit de la biologie"
value set is reported as non-blocking and still applied.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from resources.errors import InvalidInput
from terminology.catalog.model import Catalog, Chapter, Exam, Target
from terminology.loinc import is_loinc_shaped
from terminology.loinc_files.candidates import Candidate, ImportResult, LineError, one_loinc, record, to_changes
from terminology.loinc_files.formats import IMPORT_FORMATS, SEPARATOR, FileFormat, import_format_for, normalise
from terminology.loinc_files.report import Finding, ImportReport

__all__ = ["ImportResult", "parse_loinc_import"]


def _decode(raw: bytes, report: ImportReport) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.add(0, Finding.ENCODING, "le fichier n'est pas en UTF-8 : lu en Windows-1252 / ISO-8859-1",
                   blocking=False)
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _split(line: str) -> list[str]:
    try:
        return [c.strip() for c in next(csv.reader([line], delimiter=SEPARATOR, strict=True))]
    except (csv.Error, StopIteration) as exc:
        raise LineError(Finding.MALFORMED, f"ligne CSV illisible : {exc}") from exc


def _fit(cells: list[str], fmt: FileFormat) -> list[str]:
    """Trim trailing empty cells; extra LOINC codes in extra columns mean several codes."""
    expected = len(fmt.headers)
    while len(cells) > expected and not cells[-1]:
        cells.pop()
    if len(cells) > expected and any(is_loinc_shaped(c) for c in cells[expected:]):
        raise LineError(Finding.MULTIPLE_LOINC, "plusieurs codes LOINC pour un même élément (colonnes en trop : "
                        f"{'; '.join(c for c in cells[expected - 2:] if c)})", expected + 1)
    if len(cells) != expected:
        raise LineError(Finding.COLUMN_COUNT, f"{len(cells)} colonnes au lieu de {expected}")
    for index in fmt.mandatory:
        if not cells[index]:
            raise LineError(Finding.MISSING_VALUE, f"colonne obligatoire « {fmt.headers[index]} » vide", index + 1)
    return cells


def _loinc(cells: list[str], index: int, fmt: FileFormat) -> str | None:
    return one_loinc([cells[index]], f"la colonne « {fmt.headers[index]} »", index + 1)


def _chapter(catalog: Catalog, code: str, label: str) -> Chapter:
    for chapter in catalog.chapters:
        if (code and chapter.code == code) or (not code and normalise(chapter.label) == normalise(label)):
            return chapter
    raise LineError(Finding.UNKNOWN_LOCAL_CODE, f"chapitre inconnu du catalogue : {code or label!r}", 1)


def _chapters_line(catalog: Catalog, cells: list[str], line: int, fmt: FileFormat) -> list[Candidate]:
    chapter = _chapter(catalog, cells[0], cells[1])
    found: list[Candidate] = []
    if code := _loinc(cells, 4, fmt):
        found.append(Candidate(Target.CHAPTER, chapter.code, code, cells[5], line))
    sub_code, sub_label = cells[2], cells[3]
    if sub_code or sub_label:
        sub = next((s for s in chapter.subchapters if (sub_code and s.code == sub_code)
                    or (not sub_code and normalise(s.label) == normalise(sub_label))), None)
        if sub is None:
            raise LineError(Finding.UNKNOWN_LOCAL_CODE,
                             f"sous-chapitre {sub_code or sub_label!r} inconnu dans le chapitre {chapter.code}", 3)
        if code := _loinc(cells, 6, fmt):
            found.append(Candidate(Target.SUBCHAPTER, sub.code, code, cells[7], line))
    elif cells[6]:
        raise LineError(Finding.MALFORMED, "code LOINC de sous-chapitre sans sous-chapitre sur la ligne", 7)
    return found


def _exams_line(catalog: Catalog, cells: list[str], line: int, fmt: FileFormat) -> list[Candidate]:
    exam = catalog.find(Target.EXAM, cells[0])
    if not isinstance(exam, Exam):
        raise LineError(Finding.UNKNOWN_LOCAL_CODE, f"examen inconnu du catalogue : {cells[0]!r}", 1)
    if cells[7] not in exam.analyses:
        raise LineError(Finding.UNKNOWN_LOCAL_CODE, f"l'analyse {cells[7]!r} n'appartient pas à l'examen "
                         f"{cells[0]} dans le catalogue", 8)
    code = _loinc(cells, 9, fmt)
    return [Candidate(Target.EXAM, cells[0], code, cells[10], line)] if code else []


def _results_line(catalog: Catalog, cells: list[str], line: int, fmt: FileFormat) -> list[Candidate]:
    if catalog.find(Target.ANALYSIS, cells[0]) is None:
        raise LineError(Finding.UNKNOWN_LOCAL_CODE, f"analyse inconnue du catalogue : {cells[0]!r}", 1)
    code = _loinc(cells, 12, fmt)
    return [Candidate(Target.ANALYSIS, cells[0], code, cells[13], line)] if code else []


_READERS: dict[int, Callable[[Catalog, list[str], int, FileFormat], list[Candidate]]] = {
    4: _chapters_line, 5: _exams_line, 6: _results_line,
}


def _header_ok(cells: list[str], fmt: FileFormat) -> bool:
    echoed = fmt.headers[: fmt.echoed]
    return len(cells) >= fmt.echoed and all(
        normalise(a) == normalise(b) for a, b in zip(cells[: fmt.echoed], echoed, strict=True))


def parse_loinc_import(path: Path, catalog: Catalog, circuit_value_set: set[str] | frozenset[str], *,
                       file_number: int | None = None) -> ImportResult:
    """Read a LOINC_4, LOINC_5 or LOINC_6 file (kind from its name unless ``file_number`` is given)."""
    fmt = import_format_for(path.name) if file_number is None else IMPORT_FORMATS.get(file_number)
    if fmt is None:
        raise InvalidInput(f"{path.name}: not a LOINC_4, LOINC_5 or LOINC_6 file name", expression=path.name)
    report = ImportReport(file_name=path.name, file_number=fmt.number)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}", expression=path.name) from exc
    lines = _decode(raw, report).splitlines()
    header = _split(lines[0]) if lines else []
    if not _header_ok(header, fmt):
        report.add(1, Finding.HEADER, f"la ligne 1 doit être l'en-tête de LOINC_{fmt.number} "
                   f"({SEPARATOR.join(fmt.headers)})")
        return ImportResult((), report)
    candidates: list[Candidate] = []
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip(SEPARATOR + " \t"):
            continue
        report.data_lines += 1
        try:
            found = _READERS[fmt.number](catalog, _fit(_split(text), fmt), number, fmt)
        except LineError as err:
            report.add(number, err.finding, err.message, column=err.column)
            continue
        record(report, number, found, circuit_value_set)
        candidates.extend(found)
    return to_changes(candidates, catalog, report, lambda line: f"{path.name}:{line}")
