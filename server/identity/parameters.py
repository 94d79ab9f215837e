"""Reading the FHIR ``Parameters`` an identity operation receives, and writing the one it returns.

Each error names the parameter (``Parameters.parameter('birthDate')``) so the client can point at it.
"""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput

_VALUE_KEYS = ("valueString", "valueCode", "valueDate", "valueBoolean", "valueInteger", "valueReference",
               "valueCoding", "valueIdentifier")


def where(name: str) -> str:
    return f"Parameters.parameter('{name}')"


class Params:
    """The parameters of one request, by name, each a list of values (or resources)."""

    def __init__(self, body: Any) -> None:
        if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
            raise InvalidInput("the operation expects a FHIR Parameters resource", expression="resourceType")
        self.values: dict[str, list[Any]] = {}
        for i, p in enumerate(body.get("parameter", [])):
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                raise InvalidInput("each parameter needs a name", expression=f"Parameters.parameter[{i}]")
            value = p.get("resource", next((p[k] for k in _VALUE_KEYS if k in p), None))
            if value is None:
                raise InvalidInput(f"parameter {p['name']!r} has no value", expression=where(p["name"]))
            self.values.setdefault(p["name"], []).append(value)

    def text(self, name: str, *, required: bool = False) -> str | None:
        found = self.values.get(name, [])
        if len(found) > 1:
            raise InvalidInput(f"parameter {name!r} is given {len(found)} times", expression=where(name))
        if not found or (isinstance(found[0], str) and not found[0].strip()):
            if required:
                raise InvalidInput(f"parameter {name!r} is required", expression=where(name))
            return None
        if not isinstance(found[0], str):
            raise InvalidInput(f"parameter {name!r} must be a string or code", expression=where(name))
        return found[0].strip()

    def texts(self, name: str) -> list[str]:
        return [str(v).strip() for v in self.values.get(name, []) if isinstance(v, str) and v.strip()]

    def flag(self, name: str) -> bool:
        found = self.values.get(name, [False])
        if not isinstance(found[0], bool):
            raise InvalidInput(f"parameter {name!r} must be a valueBoolean", expression=where(name))
        return found[0]

    def reference(self, name: str, rtype: str) -> str | None:
        """The id of a ``valueReference`` to ``rtype`` (``Patient/123`` -> ``123``)."""
        found = self.values.get(name, [])
        if not found:
            return None
        ref = str((found[0] or {}).get("reference", "")) if isinstance(found[0], dict) else ""
        kind, _, rid = ref.partition("/")
        if kind != rtype or not rid:
            raise InvalidInput(f"parameter {name!r} must reference a {rtype}", expression=where(name))
        return rid


def parameters(*pairs: tuple[str, Any]) -> dict[str, Any]:
    """Build the returned Parameters: a dict value is a resource, a bool a valueBoolean, an int a
    valueInteger, else a valueString."""
    out: list[dict[str, Any]] = []
    for name, value in pairs:
        if value is None:
            continue
        if isinstance(value, dict):
            out.append({"name": name, "resource": value})
        elif isinstance(value, bool):
            out.append({"name": name, "valueBoolean": value})
        elif isinstance(value, int):
            out.append({"name": name, "valueInteger": value})
        else:
            out.append({"name": name, "valueString": str(value)})
    return {"resourceType": "Parameters", "parameter": out}
