"""A tiny path walker over FHIR JSON: ``name.given`` yields every given name of every name."""

from __future__ import annotations

from typing import Any


def values_at(resource: dict[str, Any], path: str) -> list[Any]:
    if not path:
        return [resource]
    current: list[Any] = [resource]
    for step in path.split("."):
        nxt: list[Any] = []
        for node in current:
            if not isinstance(node, dict) or step not in node:
                continue
            value = node[step]
            if isinstance(value, list):
                nxt.extend(v for v in value if v is not None)
            elif value is not None:
                nxt.append(value)
        current = nxt
    return current
