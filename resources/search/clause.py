"""A planned search condition: a MongoDB filter whose first key is an indexed field.

SecantusDB (the embedded default) executes a query through the index of the filter's *first*
top-level field and checks the other fields on the documents it fetched; an explicit ``$and`` or
``$or``, or a range inside ``$elemMatch``, makes it scan the collection, and an index ``hint``
makes it walk the whole index. So the planner builds one flat filter, most selective clause first,
and never hints. MongoDB plans the same filter well by itself.

A range on a multi-valued field (``[a, b)`` over an array) may be satisfied by two different
values; where that matters the clause carries an ``element_check`` (ranges of which one must hold on
one single value) that the store re-checks on the documents it fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RANK_ID = 0
RANK_REFERENCE = 1
"""A reference (this patient, this specimen) is the most selective thing a lab searches by."""
RANK_EQUALITY = 2
RANK_RANGE = 3
RANK_PREFIX = 4
RANK_LOW_CARDINALITY = 6
RANK_SCAN = 9


@dataclass(frozen=True)
class ElementRange:
    """``lo <= value < hi`` must hold for one single value of ``field``."""

    field: str
    lo: str
    hi: str

    def holds(self, doc: dict[str, Any]) -> bool:
        node: Any = doc
        for part in self.field.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        values = node if isinstance(node, list) else [node]
        return any(isinstance(v, str) and self.lo <= v < self.hi for v in values)


@dataclass(frozen=True)
class Clause:
    filter: dict[str, Any]
    rank: int = RANK_SCAN
    element_check: tuple[ElementRange, ...] = ()
    """Any one of these ranges must hold on one single value (empty: nothing to re-check)."""

    def holds(self, doc: dict[str, Any]) -> bool:
        return not self.element_check or any(r.holds(doc) for r in self.element_check)


def merge(alternatives: list[Clause]) -> Clause:
    """OR of clauses (a comma-separated value): ``$or`` makes SecantusDB scan, so use it only when needed.

    The re-check survives only when every alternative has one (ranges of one kind of parameter); an
    alternative without a range passed the database filter exactly and needs no re-check."""
    if len(alternatives) == 1:
        return alternatives[0]
    checks = tuple(r for a in alternatives for r in a.element_check)
    exact = all(a.element_check for a in alternatives)
    return Clause({"$or": [a.filter for a in alternatives]}, element_check=checks if exact else ())


def conjoin(flt: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``flt AND extra`` kept flat; operator dicts on one field merge; ``$and`` only for a true repeat."""
    out = dict(flt)
    for key, cond in extra.items():
        if key not in out:
            out[key] = cond
        elif (key != "$or" and isinstance(out[key], dict) and isinstance(cond, dict)
              and all(k.startswith("$") for k in (*out[key], *cond)) and not set(out[key]) & set(cond)):
            out[key] = {**out[key], **cond}
        else:
            out["$and"] = [*out.get("$and", []), {key: cond}]
    return out


def combine(clauses: list[Clause]) -> dict[str, Any]:
    """AND of clauses as one flat filter, the most selective first (it picks the index).

    A second range on a field already ranged (``name=dupont&name=jean``: two words of one name) would
    need an explicit ``$and``, which makes SecantusDB scan; it is left to the store's re-check of the
    documents the first range fetched through the index (its ``element_check``), which decides alone."""
    out: dict[str, Any] = {}
    for clause in sorted(clauses, key=lambda c: c.rank):
        joined = conjoin(out, clause.filter)
        if clause.element_check and len(joined.get("$and", [])) > len(out.get("$and", [])):
            continue
        out = joined
    return out
