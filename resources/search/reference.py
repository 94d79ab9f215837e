"""Reference search: ``subject=Patient/123``, ``subject=123``, ``subject:Patient=123``.

Write time stores ``Type/id`` and the bare ``id`` of each relative reference (absolute URLs as they
are), so a typed or untyped query is one indexed lookup. Chains are resolved by the planner.
"""

from __future__ import annotations

import re
from typing import Any

from resources.errors import InvalidInput
from resources.search.clause import RANK_REFERENCE, Clause

_RELATIVE = re.compile(r"^(?:.*/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def split(reference: str) -> tuple[str, str] | None:
    """``(type, id)`` of a literal reference, or None for a urn or fragment."""
    m = _RELATIVE.match(reference)
    return (m["type"], m["id"]) if m else None


def extract(values: list[Any]) -> list[str]:
    out: list[str] = []
    for v in values:
        ref = v.get("reference") if isinstance(v, dict) else v if isinstance(v, str) else None
        if not ref or ref.startswith("#"):
            continue
        parts = split(ref)
        if parts:
            out.extend((f"{parts[0]}/{parts[1]}", parts[1]))
        else:
            out.append(ref)
    return list(dict.fromkeys(out))


def targets_of(values: list[str]) -> list[str]:
    """Only the ``Type/id`` forms, for _include."""
    return [v for v in values if "/" in v and split(v)]


def normalise_query_value(raw: str, targets: tuple[str, ...], type_modifier: str | None) -> str:
    if type_modifier:
        return raw if "/" in raw else f"{type_modifier}/{raw}"
    if "/" in raw:
        parts = split(raw)
        if parts and targets and parts[0] not in targets:
            raise InvalidInput(f"{parts[0]} is not a valid target for this parameter (expected {', '.join(targets)})")
        return f"{parts[0]}/{parts[1]}" if parts else raw
    return f"{targets[0]}/{raw}" if len(targets) == 1 else raw


def build_filter(field: str, key: str, raw: str, targets: tuple[str, ...], type_modifier: str | None) -> Clause:
    values = [normalise_query_value(v, targets, type_modifier) for v in raw.split(",") if v]
    if not values:
        raise InvalidInput(f"empty reference value for {key}", expression=key)
    return Clause({field: values[0]} if len(values) == 1 else {field: {"$in": values}}, RANK_REFERENCE)


def sort_key(values: list[str]) -> str:
    return values[0] if values else ""
