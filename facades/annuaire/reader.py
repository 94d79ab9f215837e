"""Streaming reader of the Annuaire Santé public extractions (ANS format: UTF-8, ``|`` separated, no
quoting, one header line, every line ending with ``|``).

The real ``PS_LibreAcces_Personne_activite`` file has about two million lines: it is read one line at a
time from the text file or straight out of the zip, so memory does not grow with the file. Columns are
found by their header name (normalized: case, accents, spacing), never by position, since ANS appends
columns over time. A line with the wrong number of fields is rejected with its line number; the rest of
the file goes on.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

PS_KIND, MSS_KIND = "personne-activite", "mssante"
_MEMBER_HINTS = {PS_KIND: "personne_activite", MSS_KIND: "correspondance_mssante"}


class ExtractionError(ValueError):
    """The file cannot be read as an Annuaire Santé extraction (nothing was loaded from it)."""


def norm(name: str) -> str:
    """A header name as compared: lower case, no accents, one space, straight apostrophes."""
    text = unicodedata.normalize("NFKD", name.replace("’", "'")).encode("ascii", "ignore").decode()
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class Row:
    """One data line: its number in the file (the header is line 1) and its fields by normalized header."""

    line: int
    fields: dict[str, str]

    def get(self, header: str) -> str:
        return self.fields.get(norm(header), "").strip()


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class Source:
    """One extraction file, opened for reading: its kind, its name and its text lines (with progress)."""

    kind: str
    name: str
    size: int
    lines: Iterator[str]
    consumed: int = 0


def kind_of(header: list[str]) -> str:
    names = {norm(h) for h in header}
    if "adresse bal" in names:
        return MSS_KIND
    if "identification nationale pp" in names and "nom d'exercice" in names:
        return PS_KIND
    raise ExtractionError("neither a PS_LibreAcces_Personne_activite nor an Extraction_Correspondance_MSSante "
                          "header (columns 'Identification nationale PP', 'Nom d'exercice' or 'Adresse BAL')")


def split(line: str) -> list[str]:
    """Fields of one line: ``|`` separated, the trailing ``|`` and the line end dropped."""
    line = line.rstrip("\r\n")
    if line.endswith("|"):
        line = line[:-1]
    return line.split("|")


def rows(lines: Iterator[str]) -> Iterator[Row | Rejected]:
    """The data lines after the header, each a ``Row`` or a ``Rejected`` naming its line number."""
    try:
        header = split(next(lines).lstrip("\ufeff"))
    except StopIteration:
        raise ExtractionError("the file is empty (no header line)") from None
    names = [norm(h) for h in header]
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        fields = split(line)
        if len(fields) != len(names):
            yield Rejected(number, f"{len(fields)} fields instead of {len(names)} (header)")
            continue
        yield Row(number, dict(zip(names, fields, strict=True)))


def _counting(source: Source, raw: Iterator[str]) -> Iterator[str]:
    for line in raw:
        source.consumed += len(line.encode("utf-8", "surrogateescape"))
        yield line


def _text(binary: IO[bytes]) -> Iterator[str]:
    text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
    try:
        yield from text
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"the file is not UTF-8 ({exc.reason} at byte {exc.start} of a block)") from exc
    finally:
        if not binary.closed:  # the binary handle belongs to open_extractions, which closes it
            text.detach()


def _peek_kind(first_line: str) -> str:
    return kind_of(split(first_line.lstrip("\ufeff")))


@contextmanager
def open_extractions(path: Path) -> Iterator[list[Source]]:
    """The extractions in ``path`` (a ``.txt`` file or a zip holding them), the MSSanté one first so that
    the Practitioners of the PS file can carry their MSSanté addresses. Other members of the zip
    (diplomas, savoir-faire) are skipped."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist()
                       if not m.is_dir() and any(h in m.filename.lower() for h in _MEMBER_HINTS.values())]
            if not members:
                raise ExtractionError(f"{path.name}: the zip holds no Personne_activite or "
                                      "Correspondance_MSSante file")
            members.sort(key=lambda m: 0 if _MEMBER_HINTS[MSS_KIND] in m.filename.lower() else 1)
            handles = [archive.open(m) for m in members]
            try:
                yield [_source(m.filename, m.file_size, _text(h)) for m, h in zip(members, handles, strict=True)]
            finally:
                for handle in handles:
                    handle.close()
        return
    with path.open("rb") as handle:
        yield [_source(path.name, path.stat().st_size, _text(handle))]


def _source(name: str, size: int, raw: Iterator[str]) -> Source:
    try:
        first = next(raw)
    except StopIteration:
        raise ExtractionError(f"{name}: the file is empty (no header line)") from None
    source = Source(_peek_kind(first), name, size, iter(()))
    source.consumed = len(first.encode("utf-8", "surrogateescape"))

    def chained() -> Iterator[str]:
        yield first
        yield from _counting(source, raw)

    source.lines = chained()
    return source
