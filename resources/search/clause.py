"""A planned search condition: its MongoDB filter and the index that serves it.

The embedded SecantusDB plans only single-index queries reliably, so the planner picks the most
selective index itself (lowest rank) and passes it as a hint; on MongoDB the hint is optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RANK_ID = 0
RANK_COMPOUND = 1
RANK_EQUALITY = 2
RANK_RANGE = 3
RANK_PREFIX = 4
RANK_INDEX_SCAN = 9


@dataclass(frozen=True)
class Clause:
    filter: dict[str, Any]
    index: str | None = None
    rank: int = 99
    equality_on: str | None = None
    """The stored field an equality clause pins (used to pick a compound index)."""


def merge(alternatives: list[Clause]) -> Clause:
    """OR of clauses; an index only survives when every alternative is the same equality field."""
    if len(alternatives) == 1:
        return alternatives[0]
    return Clause({"$or": [a.filter for a in alternatives]})


def index_name(key: str, suffix: str = "") -> str:
    """The one naming rule shared by the index builder and the planner."""
    return f"{key}{suffix}"
