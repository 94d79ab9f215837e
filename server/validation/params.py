"""Reading an operation's ``Parameters`` body: named values, with errors naming the parameter."""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput
from resources.fhirjson import loads

VALUE_KEYS = ("valueQuantity", "valueCodeableConcept", "valueString")


def parameters(raw: bytes) -> list[dict[str, Any]]:
    """The ``parameter`` list of a ``Parameters`` body; an empty body is no parameters."""
    if not raw.strip():
        return []
    body = loads(raw)
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidInput("an operation's body must be a Parameters resource", expression="Parameters")
    found = body.get("parameter", [])
    if not isinstance(found, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in found):
        raise InvalidInput("Parameters.parameter must be a list of named parameters", expression="Parameters.parameter")
    return found


def _named(params: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [p for p in params if p["name"] == name]


def text(params: list[dict[str, Any]], name: str, *, required: bool = False) -> str | None:
    values = _named(params, name)
    if len(values) > 1:
        raise InvalidInput(f"parameter {name!r} is given {len(values)} times", expression=f"Parameters.{name}")
    value = values[0].get("valueString") if values else None
    if values and (not isinstance(value, str) or not value.strip()):
        raise InvalidInput(f"parameter {name!r} needs a non-empty valueString", expression=f"Parameters.{name}")
    if required and value is None:
        raise InvalidInput(f"parameter {name!r} is required", expression=f"Parameters.{name}")
    return value.strip() if value else None


def references(params: list[dict[str, Any]], name: str, resource_type: str) -> list[str]:
    """The ids of ``valueReference`` parameters to ``resource_type`` (``Observation/123`` -> ``123``)."""
    ids = []
    for i, p in enumerate(_named(params, name)):
        ref = (p.get("valueReference") or {}).get("reference", "")
        kind, _, rid = ref.partition("/")
        if kind != resource_type or not rid or "/" in rid:
            raise InvalidInput(f"parameter {name!r} #{i + 1} must reference a {resource_type} ({ref!r})",
                               expression=f"Parameters.{name}[{i}]")
        ids.append(rid)
    return ids


def value(params: list[dict[str, Any]], name: str) -> tuple[str, Any] | None:
    """The ``value[x]`` of a result parameter, as (element name, value)."""
    values = _named(params, name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidInput(f"parameter {name!r} is given {len(values)} times", expression=f"Parameters.{name}")
    found = [(k, values[0][k]) for k in VALUE_KEYS if k in values[0]]
    if len(found) != 1:
        raise InvalidInput(f"parameter {name!r} needs one of {', '.join(VALUE_KEYS)}", expression=f"Parameters.{name}")
    return found[0]
