"""Every compound index outside the FHIR collections (outbox, CR-Bio versions, inbound journal, annuaire look-up,
identity document copies, proof chain, history) accepts the documents their writers produce under MongoDB's
"cannot index parallel arrays" rule (``tests/support/multikey.py``). The indexes are the ones the real
``ensure_indexes`` functions ask for, recorded by a stand-in database; the documents come from the real writers."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from pymongo import IndexModel

from facades.annuaire import norm
from facades.annuaire.mssante import entry as mssante_entry
from facades.annuaire.reader import Row
from resources.store.base import Stored
from resources.store.chain import LINKS, new_link
from resources.store.indexes import history_indexes
from resources.store.mongo import MongoFhirStore
from server.access.collections import ensure_access_indexes
from server.annuaire.load import ensure_indexes as annuaire_indexes
from server.annuaire.report import MSSANTE
from server.delivery.channel import Action
from server.delivery.facts import VERSIONS, Site, facts_of, record_version, route_of
from server.delivery.outbox import COLLECTION as DELIVERIES
from server.delivery.outbox import Outbox, new_delivery, settings_for
from server.inbound.journal import COLLECTION as JOURNAL
from server.inbound.journal import InboundJournal
from server.partners.registry import PartnerRegistry
from server.retention.identity_documents import COLLECTION as COPIES
from server.retention.identity_documents import keep
from server.retention.schedule import ensure_indexes as retention_indexes
from tests.support.multikey import parallel_arrays


class _Collection:
    def __init__(self, db: RecordingDb, name: str) -> None:
        self.db, self.name = db, name

    async def create_index(self, keys: Any, **_: Any) -> str:
        fields = [keys] if isinstance(keys, str) else [k for k, _ in keys]
        self.db.indexes[self.name].append(fields)
        return "+".join(fields)

    async def create_indexes(self, models: list[IndexModel], **_: Any) -> list[str]:
        for model in models:
            self.db.indexes[self.name].append(list(model.document["key"]))
        return [str(m.document["name"]) for m in models]

    async def insert_one(self, doc: dict[str, Any], **_: Any) -> None:
        self.db.documents[self.name].append(doc)

    async def update_one(self, query: dict[str, Any], update: dict[str, Any], **_: Any) -> None:
        self.db.documents[self.name].append({**query, **update.get("$setOnInsert", {}), **update.get("$set", {})})


class RecordingDb:
    """A stand-in database: the index keys each collection is asked for, and the documents written to it."""

    def __init__(self) -> None:
        self.indexes: dict[str, list[list[str]]] = defaultdict(list)
        self.documents: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self, name)


REPORT = {"resourceType": "DiagnosticReport", "id": "dr-1", "status": "final", "subject": {"reference": "Patient/p-1"},
          "resultsInterpreter": [{"reference": "Practitioner/pr-1"}],
          "result": [{"reference": "Observation/o-1"}, {"reference": "Observation/o-2"}],
          "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]}}
PATIENT = {"resourceType": "Patient", "id": "p-1", "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8",
                                                                   "value": "248092A001002"}]}


async def _read(kind: str, rid: str) -> dict[str, Any] | None:
    if kind == "Practitioner":
        return {"resourceType": kind, "id": rid, "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1",
                                                                  "value": "810000000001"}]}
    return {"resourceType": kind, "id": rid, "performer": [{"reference": "Organization/sub-lab"},
                                                          {"reference": "Practitioner/pr-1"}]}


async def _written(db: RecordingDb) -> None:
    """What the writers of those collections store, as they store it."""
    facts = await facts_of(REPORT, PATIENT, settings_for(REPORT), _read, Site("890000001", "810000000002"))
    for channel, recipient in (("mssante", "patient:Patient/p-1"), ("dmp", "dmp"), ("hl7", "hospital-ehr")):
        delivery = new_delivery(channel=channel, recipient=recipient, extra={"address": "a@b.mssante.fr"},
                                action=Action.PUBLISH, report_id="dr-1", version=1, patient="Patient/p-1",
                                settings=settings_for(REPORT), author="Practitioner/pr-1", order_key="dr-1",
                                after=None)
        delivery.update(facts=facts, route=route_of(channel, recipient))
        await db[DELIVERIES].insert_one(delivery)
    await record_version(db, None, REPORT, 1, "Patient/p-1", facts, datetime(2026, 12, 5, 10))
    journal = InboundJournal(db)  # type: ignore[arg-type]
    await journal.write(journal.entry(protocol="hl7v2", peer="127.0.0.1:40000", raw=b"MSH|^~\\&|COBAS|LAB",
                                      message_type="OUL^R22", control_id="MSG0001",
                                      partner={"application": "COBAS", "facility": "LAB", "address": "127.0.0.1"}))
    await db[MSSANTE].insert_one(mssante_entry(Row(2, {norm(k): v for k, v in {
        "Adresse BAL": "jean.dupont@medecin.mssante.fr", "Type de BAL": "PER", "Nom d'exercice": "DUPONT",
        "Prénom d'exercice": "Jean", "Identification nationale PP": "810000000001", "Code postal": "89300",
        "Ligne acheminement": "89300 JOIGNY"}.items()})))
    await keep(db, bytes(32), "Patient/p-1", "application/pdf", b"%PDF-1.7 scan", by="Practitioner/pr-1")  # type: ignore[arg-type]
    await db[LINKS].insert_one(new_link({**PATIENT, "meta": {"versionId": "1"}}, datetime(2026, 12, 5)))
    stored = Stored("Patient", "p-1", 1, datetime(2026, 12, 5), PATIENT, "POST")
    await db["Patient_history"].insert_one(MongoFhirStore._history_document(stored))


async def test_every_other_compound_index_accepts_what_its_writers_store() -> None:
    db = RecordingDb()
    await Outbox(db, store=None, channels=[]).ensure_indexes()  # type: ignore[arg-type]
    await InboundJournal(db).ensure_indexes()  # type: ignore[arg-type]
    await PartnerRegistry(db).ensure_indexes()  # type: ignore[arg-type]
    await annuaire_indexes(db)  # type: ignore[arg-type]
    await retention_indexes(db)
    await ensure_access_indexes(db)  # type: ignore[arg-type]
    await db[LINKS].create_index([("at", 1), ("_id", 1)])  # as MongoFhirStore.ensure_indexes asks
    await db["Patient_history"].create_indexes(history_indexes())
    await _written(db)
    compounds = {(name, tuple(fields)) for name, indexes in db.indexes.items() for fields in indexes if len(fields) > 1}
    assert {name for name, _ in compounds} >= {DELIVERIES, VERSIONS, JOURNAL, MSSANTE, COPIES, LINKS,
                                               "Patient_history"}
    refused = [(name, fields, doc.get("_id"), parallel_arrays(doc, fields)) for name, fields in sorted(compounds)
               for doc in db.documents[name] if parallel_arrays(doc, fields)]
    unchecked = sorted(name for name, _ in compounds if not db.documents[name])
    assert refused == [] and unchecked == []
