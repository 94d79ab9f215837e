"""The references to a Patient a resource holds outside its indexed reference parameters.

A merge must find every resource that names the merged identity, wherever the reference sits: ``subject`` is
indexed, but ``Observation.focus``, ``DocumentReference.context.sourcePatientInfo``, an extension or a
``contained`` resource are not. Indexing every Patient reference of every resource would cost an index entry
per write for what the reference parameters already index; so only the *other* ones are stored, under ``o`` of
the stored document, with a partial index (documents without any cost nothing). The merge then finds a
resource by its reference parameters or by ``o``, never by a scan.

References are read wherever FHIR puts them: any object with a ``reference`` string, at any depth (contained
resources and extensions included). Relative (``Patient/1``), versioned (``Patient/1/_history/2``) and absolute
(``https://host/fhir/Patient/1``) forms all name ``Patient/1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from resources.search import reference
from resources.search.params import params_for

FIELD = "o"
"""Where the stored document keeps the Patient references no reference parameter of its type indexes."""
NEVER_REPOINTED = {
    "Patient": "the identity links (replaces, replaced-by) are the merge's own record",
    "AuditEvent": "the trail is history: what was done to which identity, at the time",
    "Provenance": "the trail is history: who wrote which version, for whom, at the time",
}
"""Types whose references to a Patient a merge leaves as they are: ``o`` is not kept for them."""


def patient_id(ref: Any) -> str | None:
    """The Patient id a ``reference`` string names, None for anything else (a urn, a fragment, another type)."""
    if not isinstance(ref, str) or ref.startswith("#"):
        return None
    parts = reference.split(ref)
    return parts[1] if parts and parts[0] == "Patient" else None


def reference_paths(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Reference-shaped object (a dict with a string ``reference``) under ``node``, in document order,
    with its element path from the resource (``Observation.contained[0].subject``): what a refusal names. A loop
    with its own stack, not recursion: a body nested as deep as the JSON parser allows is walked too."""
    root = str(node.get("resourceType", "")) if isinstance(node, dict) else ""
    stack: list[tuple[str, Any]] = [(root, node)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, dict):
            if isinstance(current.get("reference"), str):
                yield path, current
            stack.extend((f"{path}.{k}", v) for k, v in reversed(current.items()) if isinstance(v, (dict, list)))
        elif isinstance(current, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(current)))
                         if isinstance(v, (dict, list)))


def reference_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every Reference-shaped object under ``node``, in document order (``reference_paths`` without the paths)."""
    return (found for _, found in reference_paths(node))


def patient_references(resource: dict[str, Any]) -> list[str]:
    """``Patient/<id>`` of every Patient the resource references, once each, in document order."""
    ids = (patient_id(node["reference"]) for node in reference_nodes(resource))
    return list(dict.fromkeys(f"Patient/{pid}" for pid in ids if pid))


@cache
def _reference_keys(resource_type: str) -> frozenset[str]:
    return frozenset(p.key for p in params_for(resource_type).values() if p.type == "reference")


def indexed_references(resource: dict[str, Any], search_values: dict[str, Any]) -> set[str]:
    """The ``Type/id`` values the type's reference parameters stored for this resource."""
    return {str(v) for key in _reference_keys(resource["resourceType"]) for v in search_values.get(key, ())}


def other_patient_references(resource: dict[str, Any], search_values: dict[str, Any]) -> list[str]:
    """The Patient references of ``resource`` that no reference parameter of its type indexes (``FIELD``)."""
    if resource.get("resourceType") in NEVER_REPOINTED:
        return []
    indexed = indexed_references(resource, search_values)
    return [ref for ref in patient_references(resource) if ref not in indexed]
