"""The standard meta parameter ``_tag`` on the embedded database: a worklist asks
the server for the results not yet tagged instead of filtering a page in the browser (issue 15, the bench)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from resources.errors import InvalidInput, UnknownParameter
from resources.interactions.search import plan_search
from resources.store.backfill import META_BACKFILL, MIGRATIONS, backfill_search_values
from server.capability import capability_statement
from server.database import Database

pytestmark = pytest.mark.db

STEP = "https://opensgl.org/fhir/CodeSystem/validation-step"
PROFILE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-observation"


def _observation(subject: str, code: str, tags: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"profile": [PROFILE]}
    if tags:
        meta["tag"] = [{"system": STEP, "code": t} for t in tags]
    return {"resourceType": "Observation", "status": "preliminary", "meta": meta, "subject": {"reference": subject},
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "valueQuantity": {"value": 5.1, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}}


async def _ids(db: Database, pairs: list[tuple[str, str]]) -> tuple[set[str], int | None]:
    page = await db.store.search(await plan_search(db.store, "Observation", [*pairs, ("_total", "accurate")],
                                                   strict=True))
    return {m["id"] for m in page.matches}, page.total


async def test_tag_and_tag_not_select_by_the_validation_step(sgl_db: Database) -> None:
    subject = f"Patient/{uuid.uuid4()}"
    waiting = [(await sgl_db.store.create(_observation(subject, "2345-7", []))).id for _ in range(3)]
    done = [(await sgl_db.store.create(_observation(subject, "2951-2", ["technical"]))).id for _ in range(2)]
    both = (await sgl_db.store.create(_observation(subject, "2823-3", ["technical", "biological"]))).id
    base = [("subject", subject), ("status", "preliminary")]

    assert await _ids(sgl_db, [*base, ("_tag", f"{STEP}|technical")]) == ({*done, both}, 3)
    assert await _ids(sgl_db, [*base, ("_tag", "biological")]) == ({both}, 1)  # the bare code too
    assert await _ids(sgl_db, [*base, ("_tag:not", f"{STEP}|technical")]) == (set(waiting), 3)
    assert await _ids(sgl_db, [*base, ("_tag:not", f"{STEP}|biological")]) == ({*waiting, *done}, 5)
    with pytest.raises(UnknownParameter):  # not served: each one would be an index more on every collection
        await plan_search(sgl_db.store, "Observation", [*base, ("_security", "R")], strict=True)

    # the tag is read off the current version: removing it puts the result back on the list
    first = await sgl_db.store.read("Observation", done[0])
    untagged = {**first.resource, "meta": {"profile": [PROFILE]}}
    await sgl_db.store.update(untagged)
    assert await _ids(sgl_db, [*base, ("_tag:not", f"{STEP}|technical")]) == ({*waiting, done[0]}, 4)


async def test_tag_refuses_an_unknown_modifier_and_is_not_a_sort(sgl_db: Database) -> None:
    with pytest.raises(InvalidInput):
        await plan_search(sgl_db.store, "Observation", [("_tag:exact", "technical")], strict=True)
    with pytest.raises(InvalidInput):
        await plan_search(sgl_db.store, "Observation", [("_sort", "_tag")], strict=True)


def test_capability_statement_advertises_the_meta_parameters_on_every_type() -> None:
    statement = capability_statement(base="https://lab.example/fhir", version="t", date="2026-01-01")
    for resource in statement["rest"][0]["resource"]:
        declared = {p["name"]: p["type"] for p in resource["searchParam"]}
        assert declared.get("_tag") == "token", resource["type"]


async def test_documents_stored_before_the_meta_parameters_are_filled_in_once(sgl_db: Database) -> None:
    """A database written before ``_tag`` existed: its tagged results must not pass for untagged ones."""
    subject = f"Patient/{uuid.uuid4()}"
    old = (await sgl_db.store.create(_observation(subject, "2951-2", ["technical"]))).id
    await sgl_db.db["Observation"].update_one({"_id": old}, {"$unset": {"s._tag": ""}})
    await sgl_db.db[MIGRATIONS].delete_one({"_id": META_BACKFILL})
    base = [("subject", subject), ("status", "preliminary")]
    assert await _ids(sgl_db, [*base, ("_tag:not", f"{STEP}|technical")]) == ({old}, 1)  # the defect, shown

    assert await backfill_search_values(sgl_db.db) >= 1
    assert await _ids(sgl_db, [*base, ("_tag:not", f"{STEP}|technical")]) == (set(), 0)
    assert await _ids(sgl_db, [*base, ("_tag", f"{STEP}|technical")]) == ({old}, 1)
    await sgl_db.db["Observation"].update_one({"_id": old}, {"$unset": {"s._tag": ""}})
    assert await backfill_search_values(sgl_db.db) == 0  # done once: the marker is kept
    await sgl_db.db["Observation"].update_one({"_id": old}, {"$set": {"s._tag": [f"{STEP}|technical", "technical"]}})
