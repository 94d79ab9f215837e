"""MongoDB's compound multikey rule, modelled for tests (no MongoDB on the test machines; SecantusDB does not check it).

MongoDB's manual ("Multikey Indexes", limitations): for a compound multikey index, each indexed document can
have at most one indexed field whose value is an array; an insert of a document with two (or the build of an
index over one) fails with "cannot index parallel arrays" (code 171). Fields that reach the same array of
embedded documents (``a.x`` and ``a.z`` with ``a`` a list) are allowed: the rule then holds again inside each
element. The model walks the document as MongoDB's key generator does: at each level, every indexed path that
meets an array must meet the same one, then the walk goes on inside each of its elements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_Path = tuple[str, list[str]]


def _first_arrays(value: Any, paths: list[_Path]) -> dict[tuple[str, ...], tuple[list[Any], list[_Path]]]:
    """The first array each path meets below ``value``, grouped by where it is (one array per place)."""
    met: dict[tuple[str, ...], tuple[list[Any], list[_Path]]] = {}
    for name, parts in paths:
        node, depth = value, 0
        while not isinstance(node, list) and depth < len(parts) and isinstance(node, dict):
            node, depth = node.get(parts[depth]), depth + 1
        if isinstance(node, list):
            where = tuple(parts[:depth])
            met.setdefault(where, (node, []))[1].append((name, parts[depth:]))
    return met


def _parallel(value: Any, paths: list[_Path]) -> tuple[str, str] | None:
    met = _first_arrays(value, paths)
    if len(met) > 1:
        first, second = list(met.values())[:2]
        return first[1][0][0], second[1][0][0]
    for array, inside in met.values():
        for element in array:
            found = _parallel(element, inside) if any(rest for _, rest in inside) else None
            if found:
                return found
    return None


def parallel_arrays(document: dict[str, Any], fields: Sequence[str]) -> tuple[str, str] | None:
    """Two fields of the index ``fields`` that meet two different arrays of ``document`` (MongoDB would refuse
    the document), or None when MongoDB accepts it."""
    return _parallel(document, [(field, field.split(".")) for field in fields])
