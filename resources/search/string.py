"""String search: accent- and case-insensitive prefix by default, ``:exact`` and ``:contains``.

Write time keeps two lists: ``s.<name>`` holds normalised strings and each of their words (so that
``MARTIN`` finds ``Dupont-Martin``), ``x.<name>`` the strings as written, for ``:exact``. A prefix
becomes an index range ``[prefix, prefix+1)``, re-checked on one value by the store.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from resources.errors import InvalidInput
from resources.search.clause import RANK_EQUALITY, RANK_PREFIX, RANK_SCAN, Clause, ElementRange, merge

_PARTS = ("text", "family", "given", "prefix", "suffix", "line", "city", "district", "state", "postalCode",
          "country")
_WORD_SPLIT = re.compile(r"[\s\-'’]+")


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    out: list[str] = []
    if isinstance(value, dict):
        for part in _PARTS:
            item = value.get(part)
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, list):
                out.extend(i for i in item if isinstance(i, str))
    return out


def extract(values: list[Any]) -> tuple[list[str], list[str]]:
    """Return (normalised strings and their words, exact strings)."""
    exact = [s for v in values for s in _strings(v)]
    norm: list[str] = []
    for s in exact:
        n = normalise(s)
        norm.append(n)
        norm.extend(w for w in _WORD_SPLIT.split(n) if w and w != n)
    return list(dict.fromkeys(norm)), list(dict.fromkeys(exact))


def _one(field: str, key: str, alt: str, modifier: str | None) -> Clause:
    if modifier == "exact":
        return Clause({f"x.{key}": alt}, RANK_EQUALITY)
    norm = normalise(alt)
    if modifier == "contains":
        return Clause({field: {"$regex": re.escape(norm)}}, RANK_SCAN)
    if modifier not in (None, ""):
        raise InvalidInput(f"modifier :{modifier} is not supported on string parameters", expression=key)
    if not norm:
        raise InvalidInput(f"empty string value for {key}", expression=key)
    upper = norm[:-1] + chr(ord(norm[-1]) + 1)
    return Clause({field: {"$gte": norm, "$lt": upper}}, RANK_PREFIX, (ElementRange(field, norm, upper),))


def build_filter(field: str, key: str, raw: str, modifier: str | None) -> Clause:
    alternatives = [a for a in raw.split(",") if a]
    if not alternatives:
        raise InvalidInput(f"empty string value for {key}", expression=key)
    return merge([_one(field, key, a, modifier) for a in alternatives])


def sort_key(values: list[str]) -> str:
    return values[0] if values else ""
