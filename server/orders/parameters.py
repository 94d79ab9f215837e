"""Reading an operation's ``Parameters`` body, every error naming the parameter it is about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resources.errors import InvalidInput, NotFound, Unprocessable
from resources.search.reference import split
from resources.store.base import FhirStore


@dataclass(frozen=True)
class Param:
    """One ``Parameters.parameter`` and the FHIRPath of it, for error messages."""

    body: dict[str, Any]
    where: str

    def value(self, kind: str) -> Any:
        key = f"value{kind}"
        if key not in self.body:
            raise InvalidInput(f"{self.where} needs a {key}", expression=f"{self.where}.{key}")
        return self.body[key]


def parameters(body: Any, allowed: set[str]) -> list[Param]:
    """The parameters of a ``Parameters`` resource; an unknown name is an error, not silently ignored."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidInput("the operation takes a Parameters resource", expression="resourceType")
    out = []
    for i, raw in enumerate(body.get("parameter") or []):
        where = f"Parameters.parameter[{i}]"
        if not isinstance(raw, dict) or raw.get("name") not in allowed:
            name = raw.get("name") if isinstance(raw, dict) else raw
            raise InvalidInput(f"{where}: unknown parameter {name!r} (expected one of {', '.join(sorted(allowed))})",
                               expression=f"{where}.name")
        out.append(Param(raw, where))
    return out


def named(params: list[Param], name: str) -> list[Param]:
    return [p for p in params if p.body["name"] == name]


def one(params: list[Param], name: str) -> Param | None:
    """The parameter ``name`` given at most once, or None."""
    found = named(params, name)
    if len(found) > 1:
        raise InvalidInput(f"parameter {name!r} is given {len(found)} times", expression=found[1].where)
    return found[0] if found else None


def required(params: list[Param], name: str) -> Param:
    """The parameter ``name`` given exactly once."""
    found = one(params, name)
    if found is None:
        raise InvalidInput(f"parameter {name!r} is required", expression=f"Parameters.parameter[{name}]")
    return found


async def existing_reference(store: FhirStore, param: Param, types: tuple[str, ...], *,
                             session: Any = None) -> dict[str, Any]:
    """A ``valueReference`` to a stored resource of one of ``types``, as ``{"reference": "Type/id"}``."""
    where = f"{param.where}.valueReference"
    ref = param.value("Reference")
    parts = split(ref.get("reference", "")) if isinstance(ref, dict) else None
    if parts is None or parts[0] not in types:
        raise InvalidInput(f"{where} must be a literal reference to {' or '.join(types)}", expression=where)
    try:
        await store.read(parts[0], parts[1], session=session)
    except NotFound as exc:
        raise Unprocessable(f"{where}: {parts[0]}/{parts[1]} does not exist", expression=where) from exc
    out = {"reference": f"{parts[0]}/{parts[1]}"}
    if ref.get("display"):
        out["display"] = ref["display"]
    return out
