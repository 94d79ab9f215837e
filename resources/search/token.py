"""Token search: codes, Codings, CodeableConcepts, Identifiers.

Write time: each coding becomes ``system|code`` plus the bare ``code`` (``|code`` when it has no
system), so that ``code``, ``system|code``, ``|code`` are each one indexed equality and ``system|``
an index range.
"""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput
from resources.search.clause import RANK_EQUALITY, RANK_PREFIX, Clause, ElementRange


def _pairs(value: Any) -> list[tuple[str | None, str]]:
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, bool):
        return [(None, "true" if value else "false")]
    if not isinstance(value, dict):
        return []
    if "coding" in value:
        return [p for c in value["coding"] for p in _pairs(c)]
    if "code" in value:
        return [(value.get("system"), str(value["code"]))]
    if isinstance(value.get("value"), str):
        return [(value.get("system"), value["value"])]
    return []


def extract(values: list[Any]) -> list[str]:
    out: list[str] = []
    for v in values:
        for system, code in _pairs(v):
            out.append(f"{system}|{code}" if system else f"|{code}")
            out.append(code)
    return list(dict.fromkeys(out))


def build_filter(field: str, key: str, raw: str, modifier: str | None, *, rank: int = RANK_EQUALITY) -> Clause:
    tokens = [t for t in raw.split(",") if t]
    if not tokens:
        raise InvalidInput(f"empty token value for {key}", expression=key)
    if any(t == "|" for t in tokens):
        raise InvalidInput("a token needs a system or a code", expression=key)
    if modifier == "not":
        return Clause({field: {"$nin": tokens}}, rank + 10)
    if modifier not in (None, ""):
        raise InvalidInput(f"modifier :{modifier} is not supported on token parameters", expression=key)
    systems = [t[:-1] for t in tokens if t.endswith("|")]
    if systems:
        if len(tokens) > 1:
            raise InvalidInput("a system-only token (system|) cannot be combined with others", expression=key)
        system = systems[0]
        # every "system|code" sorts between "system|" and "system}" ("}" follows "|" in ASCII)
        lo, hi = f"{system}|", f"{system}}}"
        return Clause({field: {"$gte": lo, "$lt": hi}}, RANK_PREFIX, (ElementRange(field, lo, hi),))
    return Clause({field: tokens[0]} if len(tokens) == 1 else {field: {"$in": tokens}}, rank)


def sort_key(values: list[str]) -> str:
    return next((v for v in values if "|" not in v), "")
