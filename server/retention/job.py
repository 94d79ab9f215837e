"""The retention job (SGL.DOC.20, SGL.INS.57): what it archives, destroys and deletes, and its report.

A patient's last activity is the date of their latest CR-Bio version (``crbio_versions.produced``, written
by the outbox in the storing transaction) or of their latest identity-document copy, whichever is later.

- **archive** (``SGL_RETENTION_ARCHIVE_YEARS``, 5): every CR-Bio version of a patient inactive that long is
  archived: its ``DocumentReference``s (N3, N1, PDF) get the ``archived`` tag of :data:`RETENTION_SYSTEM` (a
  new version, so the change is in their history) and the version line its ``archived`` date. They stay
  readable by the roles that read documents; the tag says they are out of current use.
- **destroy** (``SGL_RETENTION_DESTROY_YEARS``, 20): the documents themselves (``Binary`` and
  ``DocumentReference``, current and history versions) are removed from the database; the version line keeps
  its counts for the dashboards, without content, with its ``destroyed`` date.
- **identity copies** (``SGL_RETENTION_IDENTITY_YEARS``, 5): the encrypted copies of a patient inactive that
  long are deleted.

Each run that changes something writes one ``AuditEvent`` with the counts. ``dry_run`` counts the same and
changes nothing (no AuditEvent either). The clock is a parameter: the tests set it, the schedule passes now.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from resources.errors import NotFound
from resources.fhirjson import instant
from resources.store.base import FhirStore
from server.delivery.facts import VERSIONS
from server.retention.identity_documents import COLLECTION as COPIES

RETENTION_SYSTEM = "https://opensgl.org/fhir/CodeSystem/retention"
FORMATS = ("n3", "n1", "pdf")
DOCUMENT_TYPES = ("Binary", "DocumentReference")


@dataclass
class RetentionReport:
    now: str
    dry_run: bool
    archive_before: str
    destroy_before: str
    identity_before: str
    patients_archived: int = 0
    versions_archived: int = 0
    documents_archived: int = 0
    patients_destroyed: int = 0
    versions_destroyed: int = 0
    resources_destroyed: int = 0
    identity_copies_deleted: int = 0
    audit_event: str | None = None

    def changed(self) -> bool:
        return bool(self.versions_archived or self.versions_destroyed or self.identity_copies_deleted)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _instant(moment: datetime) -> str:
    return instant(moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment)


def years_before(now: datetime, years: int) -> datetime:
    return now - timedelta(days=round(365.25 * years))


async def _inactive(db: Any, before: datetime, done: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """Patients whose latest CR-Bio is older than ``before`` and who still have versions with none of the
    ``done`` dates (``archived``, ``destroyed``), with those versions' ids."""
    finished = {"$or": [{"$ne": [{"$ifNull": [f"${name}", None]}, None]} for name in done]}
    pipeline = [{"$group": {"_id": "$patient", "last": {"$max": "$produced"},
                            "open": {"$push": {"$cond": [finished, None, "$_id"]}}}},
                {"$match": {"last": {"$lt": before}}}]
    found = []
    async for group in await db[VERSIONS].aggregate(pipeline):
        ids = [str(i) for i in group["open"] if i]
        if ids and not await _copy_after(db, str(group["_id"]), before):
            found.append((str(group["_id"]), ids))
    return found


async def _copy_after(db: Any, patient: str, before: datetime) -> bool:
    return await db[COPIES].find_one({"patient": patient, "created": {"$gte": before}}, {"_id": 1}) is not None


def _document_ids(version_id: str) -> list[str]:
    report, _, number = version_id.rpartition(":v")
    return [f"{report}-{fmt}-v{number}" for fmt in FORMATS]


async def _archive(store: FhirStore, db: Any, version_ids: list[str], now: datetime) -> int:
    documents = 0
    for version_id in version_ids:
        for ident in _document_ids(version_id):
            try:
                reference = (await store.read("DocumentReference", ident)).resource or {}
            except NotFound:
                continue
            meta = reference.get("meta") or {}
            tags = [t for t in meta.get("tag", ()) if t.get("system") != RETENTION_SYSTEM]
            tags.append({"system": RETENTION_SYSTEM, "code": "archived", "display": "archivé (SGL.DOC.20)"})
            await store.update({**reference, "meta": {**meta, "tag": tags}})
            documents += 1
        await db[VERSIONS].update_one({"_id": version_id}, {"$set": {"archived": now}})
    return documents


async def _destroy(db: Any, version_ids: list[str], now: datetime) -> int:
    ids = [ident for version_id in version_ids for ident in _document_ids(version_id)]
    removed = 0
    for rtype in DOCUMENT_TYPES:
        removed += (await db[rtype].delete_many({"_id": {"$in": ids}})).deleted_count
        await db[f"{rtype}_history"].delete_many({"i": {"$in": ids}})
    await db[VERSIONS].update_many({"_id": {"$in": version_ids}}, {"$set": {"destroyed": now}})
    return removed


async def _expired_copies(db: Any, before: datetime) -> list[str]:
    """Copies of patients whose last activity (latest copy or CR-Bio) is older than ``before``."""
    expired: list[str] = []
    async for group in await db[COPIES].aggregate([{"$group": {"_id": "$patient", "last": {"$max": "$created"},
                                                               "ids": {"$push": "$_id"}}},
                                                   {"$match": {"last": {"$lt": before}}}]):
        recent = await db[VERSIONS].find_one({"patient": group["_id"], "produced": {"$gte": before}}, {"_id": 1})
        if recent is None:
            expired.extend(str(i) for i in group["ids"])
    return expired


async def run_retention(store: FhirStore, db: Any, now: datetime, *, archive_years: int = 5,
                        destroy_years: int = 20, identity_years: int = 5, dry_run: bool = False) -> RetentionReport:
    archive_before, destroy_before = years_before(now, archive_years), years_before(now, destroy_years)
    identity_before = years_before(now, identity_years)
    report = RetentionReport(_instant(now), dry_run, _instant(archive_before), _instant(destroy_before),
                             _instant(identity_before))
    destroyed: set[str] = set()
    for patient, version_ids in await _inactive(db, destroy_before, ("destroyed",)):
        destroyed.add(patient)
        report.patients_destroyed += 1
        report.versions_destroyed += len(version_ids)
        if not dry_run:
            report.resources_destroyed += await _destroy(db, version_ids, now)
        else:
            report.resources_destroyed += sum([await db[t].count_documents(
                {"_id": {"$in": [i for v in version_ids for i in _document_ids(v)]}}) for t in DOCUMENT_TYPES])
    for patient, version_ids in await _inactive(db, archive_before, ("archived", "destroyed")):
        if patient in destroyed:  # a dry run did not mark them: not counted twice
            continue
        report.patients_archived += 1
        report.versions_archived += len(version_ids)
        if not dry_run:
            report.documents_archived += await _archive(store, db, version_ids, now)
    copies = await _expired_copies(db, identity_before)
    report.identity_copies_deleted = len(copies)
    if copies and not dry_run:
        await db[COPIES].delete_many({"_id": {"$in": copies}})
    if report.changed() and not dry_run:
        report.audit_event = await _audit(store, report)
    return report


async def _audit(store: FhirStore, report: RetentionReport) -> str:
    counts = {k: v for k, v in report.as_dict().items() if isinstance(v, int) and not isinstance(v, bool)}
    event = {"resourceType": "AuditEvent",
             "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110100",
                      "display": "Application Activity"},
             "subtype": [{"system": RETENTION_SYSTEM, "code": "retention-run",
                          "display": "Archivage et destruction (SGL.DOC.20, SGL.INS.57)"}],
             "action": "D", "recorded": report.now, "outcome": "0",
             "agent": [{"who": {"display": "OpenSGL retention job"}, "requestor": False}],
             "source": {"observer": {"display": "OpenSGL"}},
             "entity": [{"what": {"display": "CR-Bio and identity document copies"}, "detail": [
                 {"type": name, "valueString": str(value)} for name, value in counts.items()]}]}
    stored = await store.create(event)
    return str(stored.id)
