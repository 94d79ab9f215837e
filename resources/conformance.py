"""FHIR conformance: structural checks of incoming resources with the ``fhir.resources`` R4B models.

R4B is the closest R4 model set that is maintained (see the dependency note); the JSON we store is
what the client sent, once it passed the model, so nothing R4B-specific leaks into storage.
"""

from __future__ import annotations

import asyncio
import numbers
import re
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from resources.errors import Issue, Unprocessable

# Required code bindings that the models do not enforce but a lab workflow relies on, with the R4
# cardinality of ``status`` (https://hl7.org/fhir/R4/<type>.html): a 0..1 status is checked only when
# sent (FR Core and other systems post a Specimen without one); a 1..1 one must be there.
_STATUS_RULES: dict[str, tuple[int, frozenset[str]]] = {
    "Observation": (1, frozenset({"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                                  "entered-in-error", "unknown"})),
    "DiagnosticReport": (1, frozenset({"registered", "partial", "preliminary", "final", "amended", "corrected",
                                       "appended", "cancelled", "entered-in-error", "unknown"})),
    "ServiceRequest": (1, frozenset({"draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
                                     "unknown"})),
    "Specimen": (0, frozenset({"available", "unavailable", "unsatisfactory", "entered-in-error"})),
    "DocumentReference": (1, frozenset({"current", "superseded", "entered-in-error"})),
}
_GENDERS = frozenset({"male", "female", "other", "unknown"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""What FHIR's string regex ``[ \\r\\n\\t\\S]+`` leaves out: code points below 32 other than TAB, LF, CR.
A NUL stored in MongoDB and later written into HL7, CDA or a PDF breaks the document downstream."""


@cache
def _model(resource_type: str) -> Any:
    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError) as exc:
        raise Unprocessable(f"unknown resource type {resource_type!r}", expression="resourceType") from exc


def _location(resource_type: str, loc: tuple[Any, ...]) -> str:
    path = resource_type
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate_resource(resource: Any) -> dict[str, Any]:
    """Check a resource against the R4B model; raise 422 naming every faulty element."""
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise Unprocessable("the body is not a FHIR resource (no resourceType)", expression="resourceType")
    rtype = resource["resourceType"]
    model = _model(rtype)
    _check_characters(rtype, resource)
    try:
        instance = model.model_validate(resource)
    except ValidationError as exc:
        issues = [
            Issue(code="structure" if err["type"] == "extra_forbidden" else "value",
                  diagnostics=f"{_location(rtype, err['loc'])}: {err['msg']}",
                  expression=(_location(rtype, err["loc"]),))
            for err in exc.errors()
        ]
        raise Unprocessable(issues[0].diagnostics, issues=issues) from exc
    _check_integers(rtype, resource, instance)
    _check_bindings(rtype, resource)
    return resource


async def validated(resource: Any) -> dict[str, Any]:
    """``validate_resource`` in a worker thread: checking a large resource against the models is CPU work
    that would otherwise stall every other request and socket served by the event loop."""
    return await asyncio.to_thread(validate_resource, resource)


async def validated_all(resources: list[Any]) -> list[dict[str, Any]]:
    """``validated`` for several resources in one worker-thread hop (an analyzer message's results: one hop
    per resource cost a thread hand-over and an event-loop wake-up each); the first faulty one raises."""
    return await asyncio.to_thread(lambda: [validate_resource(r) for r in resources])


def _control_character_at(node: Any, path: str) -> str | None:
    """The path of the first string holding a forbidden control character, or None."""
    if isinstance(node, str):
        return path if _CONTROL.search(node) else None
    if isinstance(node, dict):
        return next((found for key, value in node.items()
                     if (found := _control_character_at(value, f"{path}.{key}")) is not None), None)
    if isinstance(node, list):
        return next((found for i, value in enumerate(node)
                     if (found := _control_character_at(value, f"{path}[{i}]")) is not None), None)
    return None


def _check_characters(rtype: str, resource: dict[str, Any]) -> None:
    where = _control_character_at({k: v for k, v in resource.items() if k != "resourceType"}, rtype)
    if where is not None:
        text = (f"{where}: control characters (NUL, below U+0020 other than TAB, CR, LF) are not allowed in "
                "FHIR strings")
        raise Unprocessable(text, issues=[Issue(code="value", diagnostics=text, expression=(where,))])


def _check_bindings(rtype: str, resource: dict[str, Any]) -> None:
    rule = _STATUS_RULES.get(rtype)
    if rule is not None:
        minimum, allowed = rule
        status = resource.get("status")
        if status is None and minimum:
            raise Unprocessable(f"{rtype}.status is required (1..1 in FHIR R4)", expression=f"{rtype}.status")
        if status is not None and status not in allowed:
            raise Unprocessable(f"{rtype}.status {status!r} is not one of {sorted(allowed)}",
                                expression=f"{rtype}.status")
    if "gender" in resource and resource["gender"] not in _GENDERS:
        raise Unprocessable(f"{rtype}.gender {resource['gender']!r} is not one of {sorted(_GENDERS)}",
                            expression=f"{rtype}.gender")


def _fractional_numbers(node: Any, path: tuple[str | int, ...], out: list[tuple[tuple[str | int, ...], Any]]) -> None:
    """Where the JSON holds a number written with a decimal point or an exponent (not a JSON integer), appended to
    ``out``; strings, booleans and integers (most leaves) are passed over without a call (CPU on every create)."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            continue
        if kind is dict or kind is list:
            _fractional_numbers(value, (*path, key), out)
        elif isinstance(value, numbers.Number):
            out.append(((*path, key), value))


@cache
def _attribute_names(model_class: type[Any]) -> dict[str, str]:
    fields = getattr(model_class, "model_fields", {})
    return {(field.alias or name): name for name, field in fields.items()}


def _attribute_name(node: Any, json_name: str) -> str:
    """The model attribute of a JSON element name ('' when the node has none: getattr then gives None)."""
    names: dict[str, str] = _attribute_names(type(node))  # type: ignore[arg-type]  # a class is hashable
    return names.get(json_name, "")


_POLYMORPHIC = frozenset({"contained", "resource", "outcome"})
"""Elements holding a resource of any type: below them an element path does not tell the model's type."""
_INTEGER_AT: dict[tuple[str, ...], bool] = {}
"""(resource type, element names...) -> whether that element is an integer: each element path is looked up in a
model once per process (a Quantity value, a reference range: the same few paths on every create)."""


def _is_integer_at(instance: Any, rtype: str, path: tuple[str | int, ...]) -> bool:
    key = (rtype, *(p for p in path if isinstance(p, str)))
    known = _INTEGER_AT.get(key)
    if known is not None:
        return known
    node = instance
    for part in path:
        if node is None:
            break
        node = node[part] if isinstance(part, int) else getattr(node, _attribute_name(node, part), None)
    answer = isinstance(node, int) and not isinstance(node, bool)
    if len(_INTEGER_AT) < 10_000 and _POLYMORPHIC.isdisjoint(key):
        _INTEGER_AT[key] = answer
    return answer


def _check_integers(rtype: str, resource: dict[str, Any], instance: Any) -> None:
    """An R4 integer (integer, positiveInt, unsignedInt) is a JSON number without a fraction or exponent
    (https://hl7.org/fhir/R4/datatypes.html#integer); the model reads ``1.0`` as 1 and it was stored as sent.
    Each non-integer JSON number is looked up in the validated model: an int there is such an element."""
    found: list[tuple[tuple[str | int, ...], Any]] = []
    _fractional_numbers(resource, (), found)
    for path, value in found:
        if _is_integer_at(instance, rtype, path):
            where = _location(rtype, path)
            text = f"{where}: {value} is not an integer (an R4 integer is written without a decimal point)"
            raise Unprocessable(text, issues=[Issue(code="value", diagnostics=text, expression=(where,))])
