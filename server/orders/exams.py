"""Orderable exams as the stored catalogue describes them: one ``ActivityDefinition`` per exam.

The catalogue (seeded at start-up, edited by LOINC imports) is read from the store, not from the
seed file, so an order always uses the catalogue the lab currently runs. The exam's specimen
requirement (``SpecimenDefinition``: specimen type and accepted containers) and its container
(the ``container`` extension) decide which tube a Specimen is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from resources.errors import NotFound, Unprocessable
from resources.interactions.search import matching_ids
from resources.store.base import FhirStore

CATALOGUE_SYSTEM = "https://opensgl.org/fhir/CodeSystem/catalogue"
LOINC_SYSTEM = "http://loinc.org"
CONTAINER_EXTENSION = "https://opensgl.org/fhir/StructureDefinition/container"


@dataclass(frozen=True)
class OrderableExam:
    """What an order needs from the catalogue about one exam."""

    code: dict[str, Any]
    """The ``ActivityDefinition.code`` (local code, NABM, LOINC when assigned), copied to the ServiceRequest."""
    canonical: str
    label: str
    specimen_type: dict[str, Any]
    container: dict[str, Any]

    @property
    def local_code(self) -> str:
        return next((c["code"] for c in self.code.get("coding", []) if c.get("system") == CATALOGUE_SYSTEM), "")

    @property
    def tube(self) -> tuple[str, str]:
        """Exams sharing specimen type and container go in one tube (one Specimen)."""
        return (_first_code(self.specimen_type), _first_code(self.container))


def _first_code(concept: dict[str, Any]) -> str:
    return str((concept.get("coding") or [{}])[0].get("code", ""))


async def find_exam(store: FhirStore, system: str, code: str, *, expression: str, session: Any = None) -> OrderableExam:
    """The active catalogue exam coded ``system|code``; ``Unprocessable`` naming ``expression`` otherwise."""
    if not code:
        raise Unprocessable("the exam has no code", expression=expression)
    ids = await matching_ids(store, "ActivityDefinition", urlencode({"code": f"{system}|{code}"}), session=session)
    if len(ids) != 1:
        what = "is not an orderable exam of the catalogue" if not ids else "matches several catalogue exams"
        raise Unprocessable(f"exam {code!r} ({system}) {what}", expression=expression)
    definition = (await store.read("ActivityDefinition", ids[0], session=session)).resource or {}
    if definition.get("status") != "active":
        raise Unprocessable(f"exam {code!r} is {definition.get('status')} in the catalogue", expression=expression)
    return OrderableExam(definition["code"], str(definition.get("url", "")),
                         str(definition.get("title") or definition["code"].get("text") or code),
                         *await _tube(store, definition, expression, session))


async def _tube(store: FhirStore, definition: dict[str, Any], expression: str,
                session: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Specimen type and container (with its label) from the exam's SpecimenDefinition."""
    refs = [r.get("reference", "") for r in definition.get("specimenRequirement", [])]
    container_code = next((e["valueCoding"]["code"] for e in definition.get("extension", [])
                           if e.get("url") == CONTAINER_EXTENSION), None)
    if not refs or not refs[0].startswith("SpecimenDefinition/") or container_code is None:
        raise Unprocessable(f"catalogue exam {definition.get('id')} has no specimen requirement or container",
                            expression=expression)
    try:
        spec = (await store.read("SpecimenDefinition", refs[0].split("/", 1)[1], session=session)).resource or {}
    except NotFound as exc:
        raise Unprocessable(f"catalogue exam {definition.get('id')}: {refs[0]} is missing from the catalogue",
                            expression=expression) from exc
    for tested in spec.get("typeTested", []):
        container = (tested.get("container") or {}).get("type") or {}
        if any(c.get("code") == container_code for c in container.get("coding", [])):
            return spec["typeCollected"], container
    raise Unprocessable(f"catalogue exam {definition.get('id')}: container {container_code} is not accepted by "
                        f"{refs[0]}", expression=expression)
