"""Date search: every date, dateTime, instant or Period is stored as a range ``{lo, hi}``.

A partial date is the range it covers (``2024-03`` is the whole of March), so the FHIR prefixes
become comparisons between two ranges, each one indexed lookup on ``lo`` or ``hi``:

======  ===========================================  ==========================  =====
prefix  meaning (search range Q, stored range R)     MongoDB condition           index
======  ===========================================  ==========================  =====
eq      Q contains R                                 lo in Q, hi <= Q.hi (same)  lo
ne      not eq                                       $not of eq                  none
gt/sa   R ends after / starts after Q                hi > Q.hi / lo > Q.hi       hi/lo
lt/eb   R starts before / ends before Q              lo < Q.lo / hi < Q.lo       lo/hi
ge/le   R overlaps Q or what follows / precedes it   hi >= Q.lo / lo <= Q.hi     hi/lo
======  ===========================================  ==========================  =====
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from resources.errors import InvalidInput
from resources.search.clause import RANK_RANGE, RANK_SCAN, Clause, merge

_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?P<f>\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_MS = timedelta(milliseconds=1)
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
MIN = datetime(1, 1, 1)


def parse_range(text: str, *, expression: str = "date") -> tuple[datetime, datetime]:
    """The (first, last millisecond) UTC range a FHIR date/dateTime/instant covers, as naive UTC."""
    m = _DATE.match(text.strip())
    if not m:
        raise InvalidInput(f"{text!r} is not a FHIR date or dateTime", expression=expression)
    y = int(m["y"])
    try:
        if m["m"] is None:
            lo, hi = datetime(y, 1, 1), datetime(y + 1, 1, 1)
        elif m["d"] is None:
            mo = int(m["m"])
            lo = datetime(y, mo, 1)
            hi = lo + timedelta(days=calendar.monthrange(y, mo)[1])
        elif m["H"] is None:
            lo = datetime(y, int(m["m"]), int(m["d"]))
            hi = lo + timedelta(days=1)
        else:
            sec = int(m["S"] or 0)
            micro = int(float(m["f"]) * 1_000_000) if m["f"] else 0
            lo = datetime(y, int(m["m"]), int(m["d"]), int(m["H"]), int(m["M"]), sec, micro)
            tz = m["tz"]
            if tz and tz != "Z":
                sign = 1 if tz[0] == "+" else -1
                lo -= sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
            step = timedelta(seconds=1) if m["S"] is not None else timedelta(minutes=1)
            if m["f"]:
                step = _MS
            hi = lo + step
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is not a valid date: {exc}", expression=expression) from exc
    return lo, hi - _MS


def _ranges(value: Any) -> list[tuple[datetime, datetime]]:
    if isinstance(value, str):
        return [parse_range(value)]
    if isinstance(value, dict) and ("start" in value or "end" in value):
        lo = parse_range(value["start"])[0] if value.get("start") else MIN
        hi = parse_range(value["end"])[1] if value.get("end") else datetime(9999, 12, 31)
        return [(lo, hi)]
    return []


def extract(values: list[Any]) -> list[dict[str, datetime]]:
    return [{"lo": lo, "hi": hi} for v in values for lo, hi in _ranges(v)]


def split_prefix(raw: str, *, expression: str) -> tuple[str, str]:
    """(prefix, value) of a date or quantity search value; ``ap``, the one R4 prefix not served, is refused by
    name (it was read as part of the value: "'ap2026-12-05' is not a FHIR date", "'ap5' is not a number")."""
    if raw[:2] in PREFIXES:
        return raw[:2], raw[2:]
    if raw[:2] == "ap":
        raise InvalidInput(f"the prefix ap (approximately) is not supported in {raw!r}; ask a range with ge and le",
                           expression=expression)
    return "eq", raw


def _clause(field: str, key: str, prefix: str, lo: datetime, hi: datetime) -> Clause:
    """One prefix as an index-friendly filter; only ``eq`` needs both ends on the same element."""
    if prefix == "eq":
        same = {"lo": {"$gte": lo}, "hi": {"$lte": hi}}
        return Clause({f"{field}.lo": {"$gte": lo, "$lte": hi}, field: {"$elemMatch": same}}, RANK_RANGE)
    if prefix == "ne":
        return Clause({field: {"$not": {"$elemMatch": {"lo": {"$gte": lo}, "hi": {"$lte": hi}}}}}, RANK_SCAN)
    end, op, bound = {
        "gt": ("hi", "$gt", hi), "sa": ("lo", "$gt", hi), "lt": ("lo", "$lt", lo),
        "eb": ("hi", "$lt", lo), "ge": ("hi", "$gte", lo), "le": ("lo", "$lte", hi),
    }[prefix]
    return Clause({f"{field}.{end}": {op: bound}}, RANK_RANGE)


def build_filter(field: str, key: str, raw: str, modifier: str | None) -> Clause:
    if modifier not in (None, ""):
        raise InvalidInput(f"modifier :{modifier} is not supported on date parameters", expression=key)
    clauses = []
    for alt in (a for a in raw.split(",") if a):
        prefix, text = split_prefix(alt, expression=key)
        lo, hi = parse_range(text, expression=key)
        clauses.append(_clause(field, key, prefix, lo, hi))
    if not clauses:
        raise InvalidInput(f"empty date value for {key}", expression=key)
    return merge(clauses)


def sort_key(values: list[dict[str, datetime]]) -> str:
    return min((v["lo"] for v in values), default=MIN).isoformat(timespec="milliseconds")


def now_utc() -> datetime:
    """Naive UTC now at millisecond precision, the form BSON stores."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
