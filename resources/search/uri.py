"""URI search (canonical URLs of terminology resources): exact match, ``:below`` as a path prefix."""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput
from resources.search.clause import RANK_EQUALITY, RANK_PREFIX, Clause, index_name, merge


def extract(values: list[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str)]


def build_filter(field: str, key: str, raw: str, modifier: str | None) -> Clause:
    values = [v for v in raw.split(",") if v]
    if not values:
        raise InvalidInput(f"empty uri value for {key}", expression=key)
    if modifier == "below":
        return merge([Clause({field: {"$elemMatch": {"$gte": v, "$lt": v + "\uffff"}}}, index_name(key), RANK_PREFIX)
                      for v in values])
    if modifier not in (None, ""):
        raise InvalidInput(f"modifier :{modifier} is not supported on uri parameters", expression=key)
    flt = {field: values[0]} if len(values) == 1 else {field: {"$in": values}}
    return Clause(flt, index_name(key), RANK_EQUALITY)


def sort_key(values: list[str]) -> str:
    return values[0] if values else ""
