"""Referential integrity on write (resources/interactions/references.py): a create, an update, a transaction or a
batch entry whose local reference points at nothing is refused (422, the element path and the reference named)
and nothing is written. Inputs are shaped like what a hospital or an analyzer middleware sends: a DocumentReference
of a CR-Bio, an Observation, a ServiceRequest, a transaction with ``urn:uuid`` fullUrls."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from resources import interactions
from resources.errors import Unprocessable
from resources.interactions import ReferenceCheck
from resources.store.base import FhirStore
from server.database import Database

pytestmark = pytest.mark.db
LOINC = "http://loinc.org"


def _patient() -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"family": f"Ref{uuid.uuid4().hex[:8]}", "given": ["Anne"]}],
            "gender": "female", "birthDate": "1981-03-02"}


def _observation(subject: str, **more: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "2345-7", "display": "Glucose"}]},
            "subject": {"reference": subject}, "effectiveDateTime": "2026-12-05T08:10:00+01:00",
            "valueQuantity": {"value": 5.4, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                              "code": "mmol/L"}, **more}


def _document_reference(subject: str) -> dict[str, Any]:
    return {"resourceType": "DocumentReference", "status": "current",
            "type": {"coding": [{"system": LOINC, "code": "11502-2", "display": "CR d'examens biologiques"}]},
            "subject": {"reference": subject},
            "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/crbio-1"}}]}


def _service_request(subject: str) -> dict[str, Any]:
    return {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "code": {"coding": [{"system": LOINC, "code": "2345-7"}]}, "subject": {"reference": subject}}


async def _new_patient(db: Database) -> str:
    outcome = await interactions.create(db.store, "Patient", _patient())
    assert outcome.resource is not None
    return str(outcome.resource["id"])


async def _count(db: Database, rtype: str, subject: str) -> int:
    return await db.db[rtype].count_documents({"r.subject.reference": subject})


@pytest.mark.parametrize("make", [_document_reference, _observation, _service_request])
async def test_a_reference_to_a_missing_patient_is_refused_naming_the_element(sgl_db: Database, make: Any) -> None:
    missing = f"Patient/{uuid.uuid4()}"
    body = make(missing)
    with pytest.raises(Unprocessable) as refused:
        await interactions.create(sgl_db.store, body["resourceType"], body)
    assert refused.value.status == 422
    assert refused.value.expression == [f"{body['resourceType']}.subject"]
    assert missing in refused.value.diagnostics and "does not exist" in refused.value.diagnostics
    assert await _count(sgl_db, body["resourceType"], missing) == 0
    pid = await _new_patient(sgl_db)
    ok = await interactions.create(sgl_db.store, body["resourceType"], make(f"Patient/{pid}"))
    assert ok.status == 201


async def test_the_patient_none_of_the_hostile_probe_is_refused(sgl_db: Database) -> None:
    with pytest.raises(Unprocessable, match="Patient/None"):
        await interactions.create(sgl_db.store, "DocumentReference", _document_reference("Patient/None"))


async def test_a_reference_to_a_deleted_patient_is_refused_but_a_kept_one_does_not_block_an_update(
        sgl_db: Database) -> None:
    pid = await _new_patient(sgl_db)
    kept = await interactions.create(sgl_db.store, "Observation", _observation(f"Patient/{pid}"))
    assert kept.resource is not None
    await interactions.delete(sgl_db.store, "Patient", pid)
    with pytest.raises(Unprocessable, match="was deleted") as refused:
        await interactions.create(sgl_db.store, "Observation", _observation(f"Patient/{pid}"))
    assert refused.value.expression == ["Observation.subject"]
    # the result already stored may still be marked entered-in-error: its subject is not checked again
    fixed = await interactions.update(sgl_db.store, "Observation", kept.resource["id"],
                                      {**kept.resource, "status": "entered-in-error"})
    assert fixed.status == 200
    other = await _new_patient(sgl_db)
    moved = {**kept.resource, "performer": [{"reference": "Practitioner/nobody-here"}],
             "subject": {"reference": f"Patient/{other}"}}
    with pytest.raises(Unprocessable) as refused:
        await interactions.update(sgl_db.store, "Observation", kept.resource["id"], moved)
    assert refused.value.expression == ["Observation.performer[0]"]


async def test_contained_references_resolve_inside_the_resource(sgl_db: Database) -> None:
    pid = await _new_patient(sgl_db)
    specimen = {"resourceType": "Specimen", "id": "tube1", "subject": {"reference": f"Patient/{pid}"},
                "type": {"text": "sang"}}
    ok = _observation(f"Patient/{pid}", specimen={"reference": "#tube1"}, contained=[specimen])
    assert (await interactions.create(sgl_db.store, "Observation", ok)).status == 201
    with pytest.raises(Unprocessable, match="no contained resource") as refused:
        await interactions.create(sgl_db.store, "Observation", {**ok, "specimen": {"reference": "#tube2"}})
    assert refused.value.expression == ["Observation.specimen"]
    gone = {**specimen, "subject": {"reference": "Patient/not-there"}}
    with pytest.raises(Unprocessable) as refused:  # a contained resource's own references are local ones too
        await interactions.create(sgl_db.store, "Observation", {**ok, "contained": [gone]})
    assert refused.value.expression == ["Observation.contained[0].subject"]


async def test_version_specific_identifier_only_and_external_references(sgl_db: Database) -> None:
    pid = await _new_patient(sgl_db)
    base = "https://sgl.example.fr/fhir"
    cases_ok = [f"Patient/{pid}/_history/1", f"{base}/Patient/{pid}", "https://other.example.org/fhir/Patient/9",
                "urn:oid:1.2.250.1.213.1.4.8"]
    for ref in cases_ok:
        body = _observation(f"Patient/{pid}", focus=[{"reference": ref}])
        outcome = await interactions.create(sgl_db.store, "Observation", body, references=ReferenceCheck(base))
        assert outcome.status == 201, ref
    identifier_only = _observation(f"Patient/{pid}", performer=[
        {"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810000000001"}, "display": "Dr X"}])
    assert (await interactions.create(sgl_db.store, "Observation", identifier_only)).status == 201
    for ref, why in [(f"Patient/{pid}/_history/7", "has no version 7"), (f"{base}/Patient/nope", "does not exist"),
                     ("urn:uuid:0e1b2a3c-0000-4000-8000-000000000001", "transaction"),
                     ("Patient?identifier=urn:oid:1.2.250.1.71.4.2.7|IPP1", "conditional"),
                     ("Location/1", "holds no Location"), ("patient 12", "not a reference")]:
        body = _observation(f"Patient/{pid}", focus=[{"reference": ref}])
        with pytest.raises(Unprocessable, match=why) as refused:
            await interactions.create(sgl_db.store, "Observation", body, references=ReferenceCheck(base))
        assert refused.value.expression == ["Observation.focus[0]"], ref


def _entry(resource: dict[str, Any], full_url: str | None = None, url: str | None = None,
           method: str = "POST") -> dict[str, Any]:
    out: dict[str, Any] = {"resource": resource, "request": {"method": method, "url": url or resource["resourceType"]}}
    if full_url:
        out["fullUrl"] = full_url
    return out


async def test_a_transaction_resolves_its_urn_uuids_and_refuses_one_that_names_no_entry(sgl_db: Database) -> None:
    patient_urn, sr_urn = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    put_id = f"pat-{uuid.uuid4().hex[:12]}"
    ok = {"resourceType": "Bundle", "type": "transaction", "entry": [
        _entry(_observation(patient_urn, basedOn=[{"reference": sr_urn}])),
        _entry(_service_request(patient_urn), sr_urn),
        _entry(_patient(), patient_urn),
        _entry(_observation(f"Patient/{put_id}")),  # created by the PUT entry below, in the same transaction
        _entry({**_patient(), "id": put_id}, url=f"Patient/{put_id}", method="PUT")]}
    answer = await interactions.process_bundle(sgl_db.store, ok, base="")
    assert [e["response"]["status"] for e in answer["entry"]] == ["201"] * 5
    stray = f"urn:uuid:{uuid.uuid4()}"
    family = f"Txn{uuid.uuid4().hex[:8]}"
    bad = {"resourceType": "Bundle", "type": "transaction", "entry": [
        _entry({**_patient(), "name": [{"family": family}]}, patient_urn),
        _entry(_observation(patient_urn)),
        _entry(_observation(stray))]}
    with pytest.raises(Unprocessable) as refused:
        await interactions.process_bundle(sgl_db.store, bad, base="")
    assert refused.value.expression == ["Bundle.entry[2]", "Observation.subject"]
    assert stray in refused.value.diagnostics
    assert await sgl_db.db["Patient"].count_documents({"r.name.family": family}) == 0  # nothing written


async def test_a_transaction_refuses_a_reference_to_what_it_deletes(sgl_db: Database) -> None:
    pid = await _new_patient(sgl_db)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": f"Patient/{pid}"}},
        _entry(_observation(f"Patient/{pid}"))]}
    with pytest.raises(Unprocessable, match="was deleted"):
        await interactions.process_bundle(sgl_db.store, bundle, base="")
    assert (await sgl_db.store.read("Patient", pid)).resource is not None  # the delete rolled back too


async def test_a_batch_refuses_the_dangling_entry_alone(sgl_db: Database) -> None:
    pid = await _new_patient(sgl_db)
    missing = f"Patient/{uuid.uuid4()}"
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        _entry(_observation(f"Patient/{pid}")), _entry(_observation(missing)),
        _entry(_service_request(f"Patient/{pid}"))]}
    answer = await interactions.process_bundle(sgl_db.store, bundle, base="")
    assert [e["response"]["status"] for e in answer["entry"]] == ["201", "422", "201"]
    issue = answer["entry"][1]["response"]["outcome"]["issue"][0]
    assert issue["expression"] == ["Observation.subject"] and missing in issue["diagnostics"]
    assert await _count(sgl_db, "Observation", missing) == 0


class Counting:
    """The store, counting the reference lookups (``present``) a write makes."""

    def __init__(self, store: FhirStore) -> None:
        self.store = store
        self.lookups: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def present(self, rtype: str, ids: Any, **kw: Any) -> set[str]:
        self.lookups.append(rtype)
        return await self.store.present(rtype, ids, **kw)


async def test_many_results_cost_one_lookup_per_referenced_type(sgl_db: Database) -> None:
    pid = await _new_patient(sgl_db)
    sr = await interactions.create(sgl_db.store, "ServiceRequest", _service_request(f"Patient/{pid}"))
    assert sr.resource is not None
    counting = Counting(sgl_db.store)
    items = [(_observation(f"Patient/{pid}", basedOn=[{"reference": f"ServiceRequest/{sr.resource['id']}"}]), None)
             for _ in range(20)]
    async with sgl_db.store.transaction() as session:
        written = await interactions.create_many(counting, items, session=session)  # type: ignore[arg-type]
    assert len(written) == 20
    assert sorted(counting.lookups) == ["Patient", "ServiceRequest"]


async def test_a_deferred_check_lets_resources_of_one_transaction_name_one_another(sgl_db: Database) -> None:
    pid = await _new_patient(sgl_db)
    sr_id, tube_id = f"sr-{uuid.uuid4().hex[:12]}", f"tube-{uuid.uuid4().hex[:12]}"
    request = {**_service_request(f"Patient/{pid}"), "specimen": [{"reference": f"Specimen/{tube_id}"}]}
    tube = {"resourceType": "Specimen", "subject": {"reference": f"Patient/{pid}"},
            "request": [{"reference": f"ServiceRequest/{sr_id}"}]}
    refs = ReferenceCheck(deferred=True)
    async with sgl_db.store.transaction() as session:
        await interactions.create(sgl_db.store, "ServiceRequest", request, session=session, rid=sr_id, references=refs)
        await interactions.create(sgl_db.store, "Specimen", tube, session=session, rid=tube_id, references=refs)
        await refs.verify(sgl_db.store, session)
    assert (await sgl_db.store.read("Specimen", tube_id)).resource is not None
    never = {**request, "specimen": [{"reference": f"Specimen/tube-{uuid.uuid4().hex[:12]}"}]}
    lone = f"sr-{uuid.uuid4().hex[:12]}"
    with pytest.raises(Unprocessable, match="Specimen/tube-"):
        async with sgl_db.store.transaction() as session:
            await interactions.create(sgl_db.store, "ServiceRequest", never, session=session, rid=lone,
                                      references=refs)
            await refs.verify(sgl_db.store, session)
    assert await sgl_db.store.present("ServiceRequest", [lone]) == set()  # rolled back with the transaction


async def test_a_bulk_create_in_a_transaction_may_name_itself_but_not_what_is_missing(sgl_db: Database) -> None:
    """What an analyzer message writes: its results and the worklist Task naming one of them, ids chosen up front."""
    pid = await _new_patient(sgl_db)
    obs_id = f"obs-{uuid.uuid4().hex[:12]}"
    task = {"resourceType": "Task", "status": "requested", "intent": "order",
            "focus": {"reference": f"Observation/{obs_id}"}, "for": {"reference": f"Patient/{pid}"}}
    async with sgl_db.store.transaction() as session:
        written = await interactions.create_many(sgl_db.store, [(_observation(f"Patient/{pid}"), obs_id),
                                                                (task, None)], session=session)
    assert [o.status for o in written] == [201, 201]
    lost = {**task, "focus": {"reference": f"Observation/obs-{uuid.uuid4().hex[:12]}"}}
    kept_out = f"obs-{uuid.uuid4().hex[:12]}"
    with pytest.raises(Unprocessable) as refused:
        async with sgl_db.store.transaction() as session:
            await interactions.create_many(sgl_db.store, [(_observation(f"Patient/{pid}"), kept_out), (lost, None)],
                                           session=session)
    assert refused.value.expression == ["Task.focus"]
    assert await sgl_db.store.present("Observation", [kept_out]) == set()  # the whole bulk write rolled back


async def test_a_committed_check_reads_outside_the_transaction(sgl_db: Database) -> None:
    """The analyzer ingest's first attempt must not read inside its transaction: its check sees committed data
    only, so a patient written (not yet committed) in the same transaction is not seen, one committed is."""
    committed = await _new_patient(sgl_db)
    with pytest.raises(Unprocessable, match="does not exist"):
        async with sgl_db.store.transaction() as session:
            fresh = await interactions.create(sgl_db.store, "Patient", _patient(), session=session)
            assert fresh.resource is not None
            await interactions.create_many(sgl_db.store, [(_observation(f"Patient/{fresh.resource['id']}"), None)],
                                           session=session, references=ReferenceCheck(committed=True))
    async with sgl_db.store.transaction() as session:
        done = await interactions.create_many(sgl_db.store, [(_observation(f"Patient/{committed}"), None)],
                                              session=session, references=ReferenceCheck(committed=True))
    assert [o.status for o in done] == [201]


async def test_deleted_ok_accepts_a_deleted_target_and_still_refuses_one_that_never_existed(sgl_db: Database) -> None:
    """What the worklist uses: a Task about a report deleted since (its withdrawal delivery failed) is the trace of
    what happened; a Task about a report that never existed is refused all the same."""
    pid = await _new_patient(sgl_db)
    report = await interactions.create(sgl_db.store, "DiagnosticReport", {
        "resourceType": "DiagnosticReport", "status": "final", "code": {"text": "Biochimie"},
        "subject": {"reference": f"Patient/{pid}"}})
    assert report.resource is not None
    await interactions.delete(sgl_db.store, "DiagnosticReport", report.resource["id"])
    task = {"resourceType": "Task", "status": "requested", "intent": "order",
            "focus": {"reference": f"DiagnosticReport/{report.resource['id']}"}}
    with pytest.raises(Unprocessable, match="was deleted"):
        await interactions.create(sgl_db.store, "Task", task)
    done = await interactions.create(sgl_db.store, "Task", task, references=ReferenceCheck(deleted_ok=True))
    assert done.status == 201
    never = {**task, "focus": {"reference": f"DiagnosticReport/{uuid.uuid4()}"}}
    with pytest.raises(Unprocessable, match="does not exist"):
        await interactions.create(sgl_db.store, "Task", never, references=ReferenceCheck(deleted_ok=True))
