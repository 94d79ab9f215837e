"""``carry_over``: every reference to the merged Patient re-pointed (display and identifier rebuilt), the trail
left alone, everything found through indexes; past ``MAX_CARRIED`` resources nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from resources.errors import RuleViolation
from resources.search import links
from resources.store.backfill import LINKS_BACKFILL, MIGRATIONS, backfill_search_values
from server.database import Database
from server.identity import carry_over
from server.identity.repoint import repointed

pytestmark = pytest.mark.db


async def test_too_many_resources_refuse_the_merge_and_write_nothing(sgl_db: Database,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = sgl_db.store
    dup, kept = [(await store.create({"resourceType": "Patient", "gender": "female"})).id for _ in range(2)]
    made = [await store.create({"resourceType": "Specimen", "subject": {"reference": f"Patient/{dup}"}})
            for _ in range(3)]
    monkeypatch.setattr(carry_over, "MAX_CARRIED", 2)
    with pytest.raises(RuleViolation, match="more than 2 resources"):
        async with store.transaction() as session:
            await carry_over.carry_over(store, dup, kept, session=session)
    for specimen in made:
        now = await store.read("Specimen", specimen.id)
        assert now.vid == 1 and now.resource and now.resource["subject"] == {"reference": f"Patient/{dup}"}
    monkeypatch.setattr(carry_over, "MAX_CARRIED", 3)
    async with store.transaction() as session:
        written = await carry_over.carry_over(store, dup, kept, session=session)
    assert sorted(written) == sorted(f"Specimen/{s.id}/_history/2" for s in made)


INS_NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"
IPP = "urn:oid:1.2.250.1.71.4.2.7.000897406"
RELIABILITY = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"


def _kept(status: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "gender": "female", "birthDate": "1979-03-28",
            "identifier": [{"system": IPP, "value": "IPP-KEPT"},
                           {"use": "official", "system": INS_NIR_TEST, "value": "279035121518989"}],
            "name": [{"use": "official", "family": "PAT-TROIS", "given": ["DOMINIQUE", "ALICE"]},
                     {"use": "usual", "family": "MARTIN"}],
            "extension": [{"url": RELIABILITY, "extension": [{"url": "identityStatus", "valueCoding": {
                "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status", "code": status}}]}]}


def _dup_ref(dup: str, **extra: Any) -> dict[str, Any]:
    return {"reference": f"Patient/{dup}", "display": "DOUBLON Dominique", **extra}


async def test_every_reference_is_repointed_with_display_and_identifier_rebuilt(sgl_db: Database) -> None:
    """Contained, focus, extension, absolute and versioned forms; the INS only for a qualified survivor."""
    store = sgl_db.store
    dup = (await store.create({"resourceType": "Patient", "gender": "female"})).id
    kept = (await store.create(_kept("QUAL"))).id
    report = await store.create({
        "resourceType": "DiagnosticReport", "status": "final", "code": {"text": "bilan"},
        "contained": [{"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "K"},
                       "subject": {"reference": f"https://lab.example/fhir/Patient/{dup}"}}],
        "subject": _dup_ref(dup, identifier={"system": IPP, "value": "IPP-DUP"}),
        "result": [{"reference": "#o1"}],
        "extension": [{"url": "https://example.org/fhir/StructureDefinition/about",
                       "valueReference": {"reference": f"Patient/{dup}/_history/1",
                                          "identifier": {"system": INS_NIR_TEST, "value": "279035121518989"}}}]})
    focused = await store.create({  # names the duplicate only outside its indexed parameters
        "resourceType": "Observation", "status": "final", "code": {"text": "fetal"},
        "subject": {"reference": "Patient/someone-else"}, "focus": [_dup_ref(dup)]})
    trail = await store.create({"resourceType": "Provenance", "recorded": "2026-10-01T08:00:00Z",
                                "target": [{"reference": f"Patient/{dup}"}], "agent": [{"who": {"display": "x"}}]})
    async with store.transaction() as session:
        written = await carry_over.carry_over(store, dup, kept, session=session)
    assert sorted(written) == sorted([f"DiagnosticReport/{report.id}/_history/2",
                                      f"Observation/{focused.id}/_history/2"])
    now = (await store.read("DiagnosticReport", report.id)).resource or {}
    display = "PAT-TROIS DOMINIQUE, né(e) le 28/03/1979, sexe féminin, nom utilisé : MARTIN"
    assert now["subject"] == {"reference": f"Patient/{kept}", "display": display,
                              "identifier": {"system": IPP, "value": "IPP-KEPT"}}
    assert now["contained"][0]["subject"] == {"reference": f"Patient/{kept}"}
    assert now["extension"][0]["valueReference"] == {
        "reference": f"Patient/{kept}",
        "identifier": {"use": "official", "system": INS_NIR_TEST, "value": "279035121518989"}}
    assert now["result"] == [{"reference": "#o1"}]
    other = (await store.read("Observation", focused.id)).resource or {}
    assert other["focus"] == [{"reference": f"Patient/{kept}", "display": display}]
    assert other["subject"] == {"reference": "Patient/someone-else"}
    assert (await store.read("Provenance", trail.id)).vid == 1  # the trail is history


async def test_a_provisional_survivor_lends_no_ins_to_a_reference(sgl_db: Database) -> None:
    store = sgl_db.store
    dup = (await store.create({"resourceType": "Patient", "gender": "female"})).id
    kept = (await store.create(_kept("PROV"))).id
    task = await store.create({"resourceType": "Task", "status": "requested", "intent": "order",
                               "for": {"reference": f"Patient/{dup}",
                                       "identifier": {"system": INS_NIR_TEST, "value": "279035121518989"}}})
    async with store.transaction() as session:
        assert await carry_over.carry_over(store, dup, kept, session=session) == [f"Task/{task.id}/_history/2"]
    now = (await store.read("Task", task.id)).resource or {}
    assert now["for"] == {"reference": f"Patient/{kept}", "identifier": {"system": IPP, "value": "IPP-KEPT"}}


async def test_tasks_and_other_references_stored_before_are_found_through_an_index(sgl_db: Database) -> None:
    """A database written before Task ``subject`` and ``o`` existed: the start-up backfill fills them once, and
    the merge's Task query is an index scan (it was a scan of the Task collection)."""
    store, db = sgl_db.store, sgl_db.db
    dup, kept = [(await store.create({"resourceType": "Patient", "gender": "male"})).id for _ in range(2)]
    task = await store.create({"resourceType": "Task", "status": "requested", "intent": "order",
                               "for": {"reference": f"Patient/{dup}"}})
    sr = await store.create({"resourceType": "ServiceRequest", "status": "active", "intent": "order",
                             "subject": {"reference": "Patient/unrelated"},
                             "contained": [{"resourceType": "Specimen", "id": "s",
                                            "subject": {"reference": f"Patient/{dup}"}}]})
    await db["Task"].update_one({"_id": task.id}, {"$unset": {"s.subject": "", links.FIELD: ""}})
    await db["ServiceRequest"].update_one({"_id": sr.id}, {"$unset": {links.FIELD: ""}})
    await db[MIGRATIONS].delete_one({"_id": LINKS_BACKFILL})
    async with store.transaction() as session:
        assert await carry_over.carry_over(store, dup, dup, session=session) == []  # the defect, shown
    assert await backfill_search_values(db) >= 2
    plan = await db.command({"explain": {"find": "Task", "filter": {"s.subject": f"Patient/{dup}"}},
                             "verbosity": "executionStats"})
    assert "IXSCAN" in str(plan["queryPlanner"]["winningPlan"]), plan["queryPlanner"]
    assert plan["executionStats"]["totalDocsExamined"] == 1
    async with store.transaction() as session:
        written = await carry_over.carry_over(store, dup, kept, session=session)
    assert sorted(written) == sorted([f"Task/{task.id}/_history/2", f"ServiceRequest/{sr.id}/_history/2"])
    assert (await backfill_search_values(db)) == 0  # done once: the marker is kept


async def test_a_failure_midway_leaves_every_resource_as_it_was(sgl_db: Database,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """One transaction: the second re-pointed resource failing undoes the first one's new version too."""
    store = sgl_db.store
    dup, kept = [(await store.create({"resourceType": "Patient", "gender": "female"})).id for _ in range(2)]
    stay = await store.create({"resourceType": "Encounter", "status": "finished",
                               "subject": {"reference": f"Patient/{dup}"}})
    tube = await store.create({"resourceType": "Specimen", "subject": {"reference": f"Patient/{dup}"}})
    calls: list[str] = []

    def failing(node: dict[str, Any], merged_id: str, kept_patient: dict[str, Any]) -> dict[str, Any]:
        calls.append(node["resourceType"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return dict(repointed(node, merged_id, kept_patient))

    monkeypatch.setattr(carry_over, "repointed", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        async with store.transaction() as session:
            await carry_over.carry_over(store, dup, kept, session=session)
    assert len(calls) == 2
    for rtype, made in (("Encounter", stay), ("Specimen", tube)):
        now = await store.read(rtype, made.id)
        assert now.vid == 1 and (now.resource or {})["subject"] == {"reference": f"Patient/{dup}"}
