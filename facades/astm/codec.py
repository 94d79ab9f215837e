"""E1394 field-level codec: delimiters, escape sequences, field splitting, timestamps.

The records module maps these raw fields onto typed records; everything here is about text only.
A raw record is a tuple of fields, a field a tuple of repeats, a repeat a tuple of components.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from facades.astm.errors import AstmRecordError
from facades.astm.model import Delimiters

Field = tuple[tuple[str, ...], ...]

_ESCAPE_NAMES = {"F": "field", "S": "component", "R": "repeat", "E": "escape"}
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_TIMESTAMP = re.compile(r"^\d{8}(\d{4}(\d{2})?)?$")


def read_delimiters(header: str, *, line: int = 1) -> Delimiters:
    """The delimiters declared by an H record's first five characters (``H|\\^&``)."""
    if not header.startswith("H") or len(header) < 5:
        raise AstmRecordError("a message must start with an H record declaring its delimiters, e.g. H|\\^&",
                              record_type=header[:1] or "?", line=line, field=1)
    chars = header[1:5]
    if len(set(chars)) != 4 or any(c.isalnum() or c.isspace() or _FORBIDDEN.match(c) for c in chars):
        raise AstmRecordError(
            f"delimiters {chars!r} must be four distinct printable non-alphanumeric characters",
            record_type="H", line=line, field=2)
    return Delimiters(field=chars[0], repeat=chars[1], component=chars[2], escape=chars[3])


def unescape(text: str, d: Delimiters) -> str:
    """Replace &F& &S& &R& &E& (with the declared escape character); other sequences stay verbatim."""
    if d.escape not in text:
        return text
    by_letter = {letter: getattr(d, name) for letter, name in _ESCAPE_NAMES.items()}
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == d.escape and i + 2 < len(text) and text[i + 2] == d.escape and text[i + 1] in by_letter:
            out.append(by_letter[text[i + 1]])
            i += 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def escape(text: str, d: Delimiters) -> str:
    """Escape delimiters in a component value; the escape character first, so nothing is doubled."""
    text = text.replace(d.escape, f"{d.escape}E{d.escape}")
    for letter, name in (("F", "field"), ("S", "component"), ("R", "repeat")):
        text = text.replace(getattr(d, name), f"{d.escape}{letter}{d.escape}")
    return text


def split_record(text: str, d: Delimiters) -> list[Field]:
    """Split one record into fields of repeats of components, unescaped; H.2 is kept whole."""
    raw_fields = text.split(d.field)
    fields: list[Field] = []
    rep, comp, esc = d.repeat, d.component, d.escape
    for index, raw in enumerate(raw_fields):
        if (index == 1 and raw_fields[0] == "H") or (rep not in raw and comp not in raw and esc not in raw):
            fields.append(((raw,),))  # the common case: a plain value
            continue
        repeats = raw.split(d.repeat)
        fields.append(tuple(tuple(unescape(c, d) for c in rep.split(d.component)) for rep in repeats))
    return fields


def join_record(fields: list[Field], d: Delimiters, *, record_type: str, line: int | None = None) -> str:
    """Join fields back into record text, escaping values; trailing empty fields are dropped."""
    parts: list[str] = []
    for number, fld in enumerate(fields, start=1):
        for rep in fld:
            for comp in rep:
                if _FORBIDDEN.search(comp):
                    raise AstmRecordError(f"value {comp!r} contains a control character (CR, LF, ...)",
                                          record_type=record_type, line=line, field=number)
        if number == 2 and record_type == "H":
            parts.append(fld[0][0])
            continue
        parts.append(d.repeat.join(d.component.join(escape(c, d) for c in rep).rstrip(d.component)
                                   for rep in fld))
    while parts and parts[-1] == "":
        parts.pop()
    return d.field.join(parts)


def parse_timestamp(value: str, *, record_type: str, line: int, field: int) -> datetime | None:
    """``YYYYMMDD[HHMM[SS]]`` to a naive local datetime (E1394 carries no time zone)."""
    if not value:
        return None
    if not _TIMESTAMP.match(value):
        raise AstmRecordError(f"timestamp {value!r} is not YYYYMMDD[HHMM[SS]]",
                              record_type=record_type, line=line, field=field)
    v = value.ljust(14, "0")
    try:
        return datetime(int(v[:4]), int(v[4:6]), int(v[6:8]), int(v[8:10]), int(v[10:12]), int(v[12:]))
    except ValueError as exc:
        raise AstmRecordError(f"timestamp {value!r} is not a valid date: {exc}",
                              record_type=record_type, line=line, field=field) from exc


def parse_date(value: str, *, record_type: str, line: int, field: int) -> date | None:
    """A date field (birthdate): the date part of a timestamp."""
    stamp = parse_timestamp(value, record_type=record_type, line=line, field=field)
    return stamp.date() if stamp else None


def format_timestamp(value: datetime | date | None) -> str:
    """``YYYYMMDDHHMMSS`` for a datetime, ``YYYYMMDD`` for a date, empty for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d%H%M%S")
    return value.strftime("%Y%m%d")
