"""Orderable exams as the stored catalogue describes them: one ``ActivityDefinition`` per exam.

The catalogue (seeded at start-up, edited by LOINC imports) is read from the store, not from the
seed file, so an order always uses the catalogue the lab currently runs. The exam's specimen
requirement (``SpecimenDefinition``: specimen type and accepted containers) and its container
(the ``container`` extension) decide which tube a Specimen is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resources.errors import Unprocessable
from resources.interactions.search import plan_search
from resources.search.query import MAX_COUNT
from resources.store.base import FhirStore, StoreSession
from terminology import CATALOG_SYSTEM

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
        return next((c["code"] for c in self.code.get("coding", []) if c.get("system") == CATALOG_SYSTEM), "")

    @property
    def tube(self) -> tuple[str, str]:
        """Exams sharing specimen type and container go in one tube (one Specimen)."""
        return (_first_code(self.specimen_type), _first_code(self.container))


def _first_code(concept: dict[str, Any]) -> str:
    return str((concept.get("coding") or [{}])[0].get("code", ""))


@dataclass(frozen=True)
class ExamCode:
    """An exam as the order names it, and where (for the error when the catalogue lacks it)."""

    system: str
    code: str
    expression: str


async def find_exams(store: FhirStore, wanted: list[ExamCode], *,
                     session: StoreSession | None = None) -> list[OrderableExam]:
    """The active catalogue exam of each code, in order; ``Unprocessable`` naming the first unknown one.

    Two queries whatever the number of exams: the ActivityDefinitions by code, then their
    SpecimenDefinitions by id.
    """
    for w in wanted:
        if not w.code or "," in w.code or "|" in w.code:
            raise Unprocessable(f"exam code {w.code!r} is empty or malformed", expression=w.expression)
    tokens = ",".join(dict.fromkeys(f"{w.system}|{w.code}" for w in wanted))
    definitions = await _search(store, "ActivityDefinition", [("code", tokens)], session)
    chosen = [_definition(definitions, w) for w in wanted]
    spec_ids = {_specimen_requirement(d, w) for d, w in zip(chosen, wanted, strict=True)}
    specs = {s["id"]: s for s in await _search(store, "SpecimenDefinition", [("_id", ",".join(sorted(spec_ids)))],
                                                  session)}
    return [OrderableExam(d["code"], str(d.get("url", "")), str(d.get("title") or d["code"].get("text") or w.code),
                          *_tube(d, specs, w.expression))
            for d, w in zip(chosen, wanted, strict=True)]


async def _search(store: FhirStore, rtype: str, pairs: list[tuple[str, str]],
                  session: StoreSession | None) -> list[dict[str, Any]]:
    req = await plan_search(store, rtype, [*pairs, ("_count", str(MAX_COUNT))], strict=True, session=session)
    return (await store.search(req, session=session)).matches


def _definition(definitions: list[dict[str, Any]], wanted: ExamCode) -> dict[str, Any]:
    found = [d for d in definitions if any(c.get("system") == wanted.system and c.get("code") == wanted.code
                                           for c in d.get("code", {}).get("coding", []))]
    if len(found) != 1:
        what = "is not an orderable exam of the catalogue" if not found else "matches several catalogue exams"
        raise Unprocessable(f"exam {wanted.code!r} ({wanted.system}) {what}", expression=wanted.expression)
    if found[0].get("status") != "active":
        raise Unprocessable(f"exam {wanted.code!r} is {found[0].get('status')} in the catalogue",
                            expression=wanted.expression)
    return found[0]


def _specimen_requirement(definition: dict[str, Any], wanted: ExamCode) -> str:
    refs = [r.get("reference", "") for r in definition.get("specimenRequirement", [])]
    if not refs or not refs[0].startswith("SpecimenDefinition/"):
        raise Unprocessable(f"catalogue exam {definition.get('id')} has no specimen requirement",
                            expression=wanted.expression)
    return str(refs[0].split("/", 1)[1])


def _tube(definition: dict[str, Any], specs: dict[str, dict[str, Any]],
          expression: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Specimen type and container (with its label) from the exam's SpecimenDefinition."""
    spec_id = definition["specimenRequirement"][0]["reference"].split("/", 1)[1]
    container_code = next((e["valueCoding"]["code"] for e in definition.get("extension", [])
                           if e.get("url") == CONTAINER_EXTENSION), None)
    spec = specs.get(spec_id)
    if spec is None or container_code is None:
        raise Unprocessable(f"catalogue exam {definition.get('id')}: SpecimenDefinition/{spec_id} or its container "
                            "is missing from the catalogue", expression=expression)
    for tested in spec.get("typeTested", []):
        container = (tested.get("container") or {}).get("type") or {}
        if any(c.get("code") == container_code for c in container.get("coding", [])):
            return spec["typeCollected"], container
    raise Unprocessable(f"catalogue exam {definition.get('id')}: container {container_code} is not accepted by "
                        f"SpecimenDefinition/{spec_id}", expression=expression)
