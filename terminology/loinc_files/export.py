"""Exports LOINC_1 (chapters), LOINC_2 (orderable exams) and LOINC_3 (result analyses).

SGL.LOI.01–03: one header line, then one line per chapter or sub-chapter (LOINC_1), one line
per analysis of each exam (LOINC_2), one line per result analysis (LOINC_3). The files are
written next to each other, named with the extraction date, and replaced atomically so that a
transcoding provider never picks up a half-written file.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from terminology.catalog.model import Catalog
from terminology.loinc_files.formats import (
    EXPORT_ENCODING,
    LINE_END,
    LOINC_1,
    LOINC_2,
    LOINC_3,
    MULTI_VALUE_SEPARATOR,
    SEPARATOR,
    FileFormat,
)

__all__ = ["chapter_rows", "exam_rows", "export_loinc_files", "result_rows"]


def _cell(value: str | None) -> str:
    return " ".join((value or "").split())  # no line break may split a record


def _many(values: Iterable[str]) -> str:
    return MULTI_VALUE_SEPARATOR.join(_cell(v) for v in values)


def chapter_rows(catalog: Catalog) -> list[list[str]]:
    """LOINC_1: a chapter without sub-chapters gets one line with the sub-chapter columns empty."""
    rows: list[list[str]] = []
    for chapter in catalog.chapters:
        if not chapter.subchapters:
            rows.append([chapter.code, _cell(chapter.label), "", ""])
        rows.extend([chapter.code, _cell(chapter.label), sub.code, _cell(sub.label)] for sub in chapter.subchapters)
    return rows


def exam_rows(catalog: Catalog) -> list[list[str]]:
    """LOINC_2: N lines for an exam of N analyses."""
    specimens = {s.code: s for s in catalog.specimens}
    rows: list[list[str]] = []
    for exam in catalog.exams:
        head = [exam.code, _cell(exam.label), _many(exam.synonyms), exam.chapter, exam.subchapter or "",
                _cell(specimens[exam.specimen].label), _many(exam.nabm)]
        rows.extend(head + [code, _cell(catalog.analysis(code).label)] for code in exam.analyses)
    return rows


def result_rows(catalog: Catalog) -> list[list[str]]:
    """LOINC_3: the SGL's description of each result analysis along the LOINC axes."""
    specimens = {s.code: s for s in catalog.specimens}
    return [
        [a.code, _cell(a.label), _many(a.synonyms), a.parts.property, a.unit.code if a.unit else "",
         _cell(a.unit.label) if a.unit else "", a.parts.time, a.specimen, _cell(specimens[a.specimen].label),
         a.parts.scale, _cell(a.parts.method), _many(a.nabm)]
        for a in catalog.analyses
    ]


def write_csv(path: Path, file_format: FileFormat, rows: list[list[str]]) -> Path:
    """Write header + rows in the transcoding-file dialect; atomic replace of ``path``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SEPARATOR, lineterminator=LINE_END)
    writer.writerow(file_format.headers)
    writer.writerows(rows)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(buffer.getvalue().encode(EXPORT_ENCODING))
    os.replace(partial, path)
    return path


def export_loinc_files(catalog: Catalog, directory: Path, today: date) -> list[Path]:
    """Write LOINC_1, LOINC_2 and LOINC_3 for ``today`` into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    return [write_csv(directory / fmt.file_name(today), fmt, rows(catalog))
            for fmt, rows in ((LOINC_1, chapter_rows), (LOINC_2, exam_rows), (LOINC_3, result_rows))]
