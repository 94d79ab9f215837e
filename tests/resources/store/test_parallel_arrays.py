"""MongoDB refuses a document with arrays in two fields of one compound index ("cannot index parallel arrays",
code 171): the index set made for MongoDB must accept every document the store writes, and still index every
search parameter. The embedded SecantusDB does not check the rule; its set keeps the two-array compounds its
planner needs (``test_compound_indexes.py``). No MongoDB here: the rule is ``tests/support/multikey.py``'s model
of the manual, itself checked on the manual's examples first."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from resources.search.params import RESOURCE_TYPES, params_for
from resources.store.indexes import COMPOUND_INDEXES, Engine, current_indexes, history_indexes
from resources.store.mongo import MongoFhirStore
from server.database import Database
from tests.support.multikey import parallel_arrays

LOINC = "http://loinc.org"
LOCAL = "https://lab.example.fr/fhir/CodeSystem/analyses"
INS_NIR = "urn:oid:1.2.250.1.213.1.4.8"
ACCESSION = "https://opensgl.org/fhir/sid/accession"


def _coded(*codes: tuple[str, str, str]) -> dict[str, Any]:
    return {"coding": [{"system": s, "code": c, "display": d} for s, c, d in codes]}


GLUCOSE = _coded((LOINC, "14749-6", "Glucose [Moles/Volume] Sérum/Plasma"), (LOCAL, "GLY", "Glycémie"))
# what a French lab stores all day, shaped as FR Core and the ANS examples shape them (written for this test)
RESOURCES: list[dict[str, Any]] = [
    {"resourceType": "Patient", "identifier": [
        {"system": INS_NIR, "value": "248092A001002", "type": _coded(
            ("https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "INS-NIR", "NIR définitif"))},
        {"system": "https://lab.example.fr/fhir/sid/ipp", "value": "IPP0042"}],
     "name": [{"use": "official", "family": "DUPONT", "given": ["Marie", "Claire"]},
              {"use": "usual", "family": "MARTIN"}],
     "gender": "female", "birthDate": "1948-09-12",
     "telecom": [{"system": "phone", "value": "0601020304"}, {"system": "email", "value": "m.dupont@example.fr"}],
     "address": [{"line": ["12 rue des Lilas"], "postalCode": "89300", "city": "JOIGNY"}]},
    {"resourceType": "Observation", "status": "final",
     "identifier": [{"system": "https://lab.example.fr/fhir/sid/result", "value": "R-26-000123"}],
     "category": [_coded(("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", "Laboratory")),
                  _coded((LOCAL, "BIOCHIMIE", "Biochimie"))],
     "code": {**GLUCOSE, "text": "Glycémie à jeun"}, "subject": {"reference": "Patient/p-1"},
     "effectiveDateTime": "2026-12-05T07:42:00+01:00", "issued": "2026-12-05T09:10:00+01:00",
     "performer": [{"reference": "Practitioner/pr-1"}, {"reference": "Organization/lab-1"}],
     "valueQuantity": {"value": 5.4, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
     "interpretation": [_coded(("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "N", "N"))],
     "specimen": {"reference": "Specimen/tube-1"},
     "basedOn": [{"reference": "ServiceRequest/sr-1"}, {"reference": "ServiceRequest/sr-2"}],
     "meta": {"tag": [{"system": "https://opensgl.org/fhir/tag", "code": "analyzer"}]},
     "referenceRange": [{"low": {"value": 3.9, "unit": "mmol/L"}, "high": {"value": 5.8, "unit": "mmol/L"}}]},
    {"resourceType": "Observation", "status": "final",
     "code": _coded((LOINC, "85354-9", "Pression artérielle"), (LOCAL, "TA", "Tension")),
     "subject": {"reference": "Patient/p-1"}, "effectivePeriod": {"start": "2026-12-05T07:00:00Z",
                                                                  "end": "2026-12-05T07:05:00Z"},
     "component": [
         {"code": _coded((LOINC, "8480-6", "Systolique")), "valueQuantity": {"value": 128, "unit": "mm[Hg]"}},
         {"code": _coded((LOINC, "8462-4", "Diastolique")), "valueQuantity": {"value": 82, "unit": "mm[Hg]"}}]},
    {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
     "identifier": [{"system": "https://lab.example.fr/fhir/sid/order", "value": "CMD-881"}],
     "requisition": {"system": "https://lab.example.fr/fhir/sid/requisition", "value": "DOS-2026-12-05-017"},
     "code": GLUCOSE, "subject": {"reference": "Patient/p-1"}, "requester": {"reference": "Practitioner/pr-2"},
     "authoredOn": "2026-12-05T07:30:00+01:00",
     "specimen": [{"reference": f"Specimen/tube-{n}"} for n in (1, 2, 3)]},
    {"resourceType": "Specimen", "accessionIdentifier": {"system": ACCESSION, "value": "2612050017"},
     "identifier": [{"system": "https://hospital.example.fr/sid/tube", "value": "H-77"}],
     "type": _coded(("http://snomed.info/sct", "119364003", "Sérum")), "subject": {"reference": "Patient/p-1"},
     "request": [{"reference": "ServiceRequest/sr-1"}, {"reference": "ServiceRequest/sr-2"}],
     "collection": {"collectedDateTime": "2026-12-05T07:40:00+01:00"}},
    {"resourceType": "Task", "status": "requested", "intent": "order",
     "code": _coded(("https://opensgl.org/fhir/CodeSystem/task", "unmatched-result", "Résultat sans demande"),
                    (LOCAL, "ORPHELIN", "Orphelin")),
     "focus": {"reference": "Observation/o-9"}, "for": {"reference": "Patient/p-1"},
     "authoredOn": "2026-12-05T08:00:00Z",
     "identifier": [{"system": "https://lab.example.fr/fhir/sid/task", "value": "T-1"},
                    {"system": "https://lab.example.fr/fhir/sid/analyzer", "value": "COBAS-1:77"}]},
    {"resourceType": "Consent", "status": "active", "scope": _coded(
        ("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy", "Privacy")),
     "category": [_coded(("https://opensgl.org/channel", "dmp", "DMP"), (LOINC, "59284-0", "Consent")),
                  _coded(("https://opensgl.org/channel", "mssante", "MSSanté"))],
     "patient": {"reference": "Patient/p-1"}, "dateTime": "2026-12-05T07:30:00+01:00",
     "provision": {"type": "deny"}},
    {"resourceType": "Communication", "status": "completed",
     "category": [_coded(("http://example.org/cat", "critical", "Valeur critique"), (LOCAL, "APPEL", "Appel"))],
     "subject": {"reference": "Patient/p-1"},
     "about": [{"reference": "Observation/o-1"}, {"reference": "Observation/o-2"}],
     "sent": "2026-12-05T09:12:00+01:00", "recipient": [{"reference": "Practitioner/pr-2"}],
     "payload": [{"contentString": "Kaliémie 6,8 mmol/L, prescripteur prévenu"}]},
    {"resourceType": "DiagnosticReport", "status": "final",
     "code": _coded((LOINC, "11502-2", "CR d'examens biologiques")), "subject": {"reference": "Patient/p-1"},
     "issued": "2026-12-05T10:00:00+01:00", "effectiveDateTime": "2026-12-05T07:40:00+01:00",
     "result": [{"reference": "Observation/o-1"}, {"reference": "Observation/o-2"}],
     "specimen": [{"reference": "Specimen/tube-1"}, {"reference": "Specimen/tube-2"}],
     "basedOn": [{"reference": "ServiceRequest/sr-1"}], "performer": [{"reference": "Organization/lab-1"}]},
]


def _two(ptype: str) -> list[Any]:
    """Two search values of a parameter type, shaped as the extractors store them (``resources/search``)."""
    day = datetime(2026, 12, 5)
    grams = {"s": None, "c": "g", "u": "g"}
    shapes: dict[str, list[Any]] = {
        "date": [{"lo": day, "hi": day}, {"lo": day, "hi": day}],
        "quantity": [{"v": 1.0, **grams}, {"v": 2.0, **grams}],
        "composite": [{"t": "a|b", "v": 1.0, **grams}, {"t": "b", "v": 2.0, **grams}]}
    return shapes.get(ptype, ["a|1", "1"])


def _every_value_twice(rtype: str) -> dict[str, Any]:
    """A document of ``rtype`` with two values for every parameter (a list wherever the store writes one)."""
    params = {name: p for name, p in params_for(rtype).items() if not p.alias_of}
    return {"_id": "x", "v": 1, "lu": 0, "s": {n: _two(p.type) for n, p in params.items()},
            "x": {n: ["a", "b"] for n, p in params.items() if p.type == "string"},
            "k": {n: "a\x1fx" for n in [*params, "_lastUpdated"]}, "u": {"accession": "1"}, "o": ["Patient/a", "b"]}


def _refusals(indexes: list[Any], documents: list[dict[str, Any]]) -> list[tuple[str, str, tuple[str, str]]]:
    out = []
    for model in indexes:
        fields = list(model.document["key"])
        for doc in documents:
            pair = parallel_arrays(doc, fields)
            if pair:
                out.append((model.document["name"], str(doc["_id"]), pair))
    return out


def test_the_model_refuses_and_accepts_what_the_mongodb_manual_says() -> None:
    assert parallel_arrays({"a": [1, 2], "b": [1, 2]}, ["a", "b"]) == ("a", "b")
    assert parallel_arrays({"a": [1, 2], "b": 1}, ["a", "b"]) is None
    assert parallel_arrays({"a": 1, "b": [1, 2]}, ["a", "b"]) is None
    # one array of embedded documents reached by both fields: allowed, and the rule holds again inside each element
    assert parallel_arrays({"a": [{"x": 5, "z": [1, 2]}, {"z": [1, 2]}]}, ["a.x", "a.z"]) is None
    assert parallel_arrays({"a": [{"x": 5}, {"z": 4}]}, ["a.x", "a.z"]) is None
    assert parallel_arrays({"a": [{"x": [5], "z": [1, 2]}]}, ["a.x", "a.z"]) == ("a.x", "a.z")
    # two arrays met at different depths are two arrays
    assert parallel_arrays({"s": {"p": ["1"], "q": {"r": ["2"]}}}, ["s.p", "s.q.r"]) == ("s.p", "s.q.r")
    assert parallel_arrays({"s": {"p": ["1"]}, "k": {"p": "1"}}, ["s.p", "k.p"]) is None


@pytest.fixture
async def written(sgl_db: Database) -> AsyncIterator[dict[str, list[dict[str, Any]]]]:
    """The documents the store really writes for ``RESOURCES`` (current and history), read back raw."""
    name = f"scratch_multikey_{uuid.uuid4().hex[:8]}"
    store = MongoFhirStore(sgl_db.client[name])
    try:
        docs: dict[str, list[dict[str, Any]]] = {}
        for resource in RESOURCES:
            stored = await store.create(resource)
            assert stored.resource is not None
            await store.update({**stored.resource, "status": "cancelled" if resource["resourceType"] in (
                "Observation", "DiagnosticReport") else stored.resource.get("status", "active"),
                                "meta": {"tag": [{"system": "https://opensgl.org/fhir/tag", "code": "updated"}]}})
        for rtype in {r["resourceType"] for r in RESOURCES}:
            docs[rtype] = await store.db[rtype].find().to_list()
            docs[f"{rtype}_history"] = await store.db[f"{rtype}_history"].find().to_list()
        yield docs
    finally:
        await sgl_db.client.drop_database(name)


@pytest.mark.db
async def test_mongodb_accepts_every_document_the_store_writes_under_its_index_set(
        written: dict[str, list[dict[str, Any]]]) -> None:
    assert {r["resourceType"] for r in RESOURCES} <= set(written)
    assert all(written[f"{r['resourceType']}_history"] for r in RESOURCES)  # the update left a history copy
    refused = [(rtype, *r) for rtype, docs in written.items() if not rtype.endswith("_history")
               for r in _refusals(current_indexes(rtype, engine="mongodb"), docs)]
    refused += [(rtype, *r) for rtype, docs in written.items() if rtype.endswith("_history")
                for r in _refusals(history_indexes(), docs)]
    assert refused == []


@pytest.mark.db
async def test_the_embedded_set_holds_the_compounds_mongodb_would_refuse(
        written: dict[str, list[dict[str, Any]]]) -> None:
    """The check has teeth: the embedded database's set (the set every engine got before) is refused by the model
    on the very documents above, for each two-array compound of these types."""
    refused = {(rtype, name) for rtype, docs in written.items() if not rtype.endswith("_history")
               for name, _, _ in _refusals(current_indexes(rtype, engine="embedded"), docs)}
    assert ("Observation", "s.subject+s.code") in refused
    assert ("ServiceRequest", "s.status+s.specimen") in refused
    assert ("Task", "s.code+s.status") in refused
    assert ("Consent", "s.patient+s.category") in refused
    assert ("Communication", "s.subject+s.category") in refused


@pytest.mark.parametrize("rtype", RESOURCE_TYPES)
def test_mongodb_set_accepts_two_values_of_every_parameter(rtype: str) -> None:
    """Every stored type, every parameter holding two values at once: the worst case a resource can write."""
    assert _refusals(current_indexes(rtype, engine="mongodb"), [_every_value_twice(rtype)]) == []


def _leading(engine: Engine, rtype: str) -> set[str]:
    return {next(iter(m.document["key"])) for m in current_indexes(rtype, engine=engine)}


@pytest.mark.parametrize("rtype", RESOURCE_TYPES)
def test_mongodb_set_still_indexes_every_search_parameter(rtype: str) -> None:
    """Nothing lost: each parameter's stored field leads an index on MongoDB, and so does every field that leads
    one on the embedded database (a compound left out keeps its leading field's single-field index)."""
    leading = _leading("mongodb", rtype)
    for name, param in params_for(rtype).items():
        if param.alias_of:
            continue
        suffix = {"date": ".lo", "quantity": ".v", "composite": ".t"}.get(param.type, "")
        assert f"{param.field}{suffix}" in leading, (rtype, name)
        if param.type == "date":
            assert {f"{param.field}.hi", f"k.{param.key}"} <= leading, (rtype, name)
    assert _leading("embedded", rtype) <= leading
    assert {m.document["name"] for m in current_indexes(rtype, engine="mongodb")} >= (
        {m.document["name"] for m in current_indexes(rtype, engine="embedded")}
        - {"+".join(fields) for fields in COMPOUND_INDEXES.get(rtype, [])})


@pytest.mark.db
async def test_the_wiring_tells_the_store_its_engine(sgl_db: Database) -> None:
    """``open_database`` on the embedded database passes it down; a store built without saying gets MongoDB's set
    (valid on both), and its ``ensure_indexes`` creates that set."""
    assert sgl_db.store.engine == "embedded"
    assert "s.subject+s.code" in await sgl_db.db["Observation"].index_information()
    name = f"scratch_engine_{uuid.uuid4().hex[:8]}"
    store = MongoFhirStore(sgl_db.client[name])
    try:
        assert store.engine == "mongodb"
        await store.ensure_indexes()
        created = await store.db["Observation"].index_information()
        assert {m.document["name"] for m in current_indexes("Observation")} <= set(created)
        assert "s.subject+s.code" not in created and {"s.subject+k.date", "code"} <= set(created)
        orders = await store.db["ServiceRequest"].index_information()
        assert "s.status+s.specimen" not in orders and "status" in orders  # left out: its leading field alone
    finally:
        await sgl_db.client.drop_database(name)


@pytest.mark.db
async def test_start_up_on_mongodb_drops_the_two_array_compounds_an_earlier_version_created(
        sgl_db: Database, caplog: pytest.LogCaptureFixture) -> None:
    """MongoDB builds such an index over an empty collection, then refuses every insert under it: a database set up
    by an earlier version has them, so start-up drops them once the replacing set exists (twice is harmless)."""
    name = f"scratch_upgrade_{uuid.uuid4().hex[:8]}"
    store = MongoFhirStore(sgl_db.client[name])
    try:
        for rtype in COMPOUND_INDEXES:  # what the earlier version created on every engine
            await store.db[rtype].create_indexes(current_indexes(rtype, engine="embedded"))
        await store.ensure_indexes()
        await store.ensure_indexes()
        for rtype, compounds in COMPOUND_INDEXES.items():
            present = set(await store.db[rtype].index_information())
            expected = {m.document["name"] for m in current_indexes(rtype, engine="mongodb")}
            assert expected <= present, rtype
            assert not present & {"+".join(fields) for fields in compounds} - expected, rtype
        assert sum("dropping index" in r.getMessage() for r in caplog.records) == 7  # 2 + 2 + 3 others, once
        assert (await store.create(RESOURCES[3])).resource_type == "ServiceRequest"
    finally:
        await sgl_db.client.drop_database(name)


@pytest.mark.db
async def test_a_compound_another_start_up_dropped_first_is_no_error(sgl_db: Database,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes starting on one database both list the old compound; the second drop finds none (code 27)."""
    name = f"scratch_race_{uuid.uuid4().hex[:8]}"
    store = MongoFhirStore(sgl_db.client[name])
    listed = AsyncCollection.index_information

    async def stale(self: AsyncCollection[Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**await listed(self, *args, **kwargs), "s.code+s.status": {"key": [("s.code", 1), ("s.status", 1)]}}

    try:
        await store.db["Task"].create_indexes(current_indexes("Task", engine="mongodb"))
        monkeypatch.setattr(AsyncCollection, "index_information", stale)
        await store._drop_left_out("Task")
        monkeypatch.undo()
        assert "s.code+s.status" not in await store.db["Task"].index_information()
    finally:
        await sgl_db.client.drop_database(name)
