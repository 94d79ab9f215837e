"""Reading an operation's ``Parameters`` body, every error naming the parameter it is about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resources.errors import InvalidInput, Unprocessable
from resources.interactions.search import plan_search
from resources.search.query import MAX_COUNT
from resources.search.reference import split
from resources.store.base import FhirStore, StoreSession


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


async def existing_references(store: FhirStore, params: list[Param], types: tuple[str, ...], *,
                              session: StoreSession | None = None) -> list[dict[str, Any]]:
    """The ``valueReference`` of each parameter, each to a stored resource of one of ``types``.

    One query per resource type (``_id=a,b,c``), not one per reference: a dossier has ten or more
    correspondents and every database round trip counts.
    """
    targets: list[tuple[str, str]] = []
    for param in params:
        where = f"{param.where}.valueReference"
        ref = param.value("Reference")
        parts = split(ref.get("reference", "")) if isinstance(ref, dict) else None
        if parts is None or parts[0] not in types:
            raise InvalidInput(f"{where} must be a literal reference to {' or '.join(types)}", expression=where)
        targets.append(parts)
    stored: set[tuple[str, str]] = set()
    for rtype in dict.fromkeys(t for t, _ in targets):
        ids = sorted({i for t, i in targets if t == rtype})
        req = await plan_search(store, rtype, [("_id", ",".join(ids)), ("_count", str(MAX_COUNT))], strict=True,
                                session=session)
        stored |= {(rtype, r["id"]) for r in (await store.search(req, session=session)).matches}
    for param, (rtype, rid) in zip(params, targets, strict=True):
        if (rtype, rid) not in stored:
            where = f"{param.where}.valueReference"
            raise Unprocessable(f"{where}: {rtype}/{rid} does not exist", expression=where)
    return [_reference(p.value("Reference"), t) for p, t in zip(params, targets, strict=True)]


def _reference(given: dict[str, Any], target: tuple[str, str]) -> dict[str, Any]:
    out = {"reference": f"{target[0]}/{target[1]}"}
    if given.get("display"):
        out["display"] = given["display"]
    return out
