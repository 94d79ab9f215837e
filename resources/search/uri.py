"""URI search (canonical URLs of terminology resources): exact match, ``:below`` as a path prefix."""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput
from resources.search.clause import RANK_EQUALITY, RANK_PREFIX, Clause, ElementRange, merge


def extract(values: list[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str)]


def build_filter(field: str, key: str, raw: str, modifier: str | None) -> Clause:
    values = [v for v in raw.split(",") if v]
    if not values:
        raise InvalidInput(f"empty uri value for {key}", expression=key)
    if modifier == "below":
        bounds = [(v, v + "\uffff") for v in values]
        return merge([Clause({field: {"$gte": lo, "$lt": hi}}, RANK_PREFIX, (ElementRange(field, lo, hi),))
                      for lo, hi in bounds])
    if modifier not in (None, ""):
        raise InvalidInput(f"modifier :{modifier} is not supported on uri parameters", expression=key)
    return Clause({field: values[0]} if len(values) == 1 else {field: {"$in": values}}, RANK_EQUALITY)


def sort_key(values: list[str]) -> str:
    return values[0] if values else ""
