"""The retention job (SGL.DOC.20, SGL.INS.57) on a real database, under a clock the test sets (no sleeps): CR-Bio
archived five years after the patient's last activity, destroyed at twenty (current and history versions gone),
identity-document copies deleted at five; the dry run counts the same and changes nothing; each real run leaves
an AuditEvent with its counts; the copies are sealed (no plaintext at rest, the configured key only)."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.database import Database, open_database
from server.delivery.facts import VERSIONS, record_version
from server.retention import identity_documents
from server.retention.envelope import KeyMismatch, Sealed, key_id, new_master_key, open_sealed
from server.retention.identity_documents import COLLECTION as COPIES
from server.retention.identity_documents import keep, read_copy
from server.retention.job import RETENTION_SYSTEM, run_retention
from server.retention.schedule import RUNS, run_if_due
from server.settings import Settings
from tests.support.access import SGL

pytestmark = pytest.mark.db
NOW = datetime(2046, 3, 1, 12, tzinfo=UTC)
SCAN = b"%PDF-1.4 carte nationale d'identite DUPONT Jeanne 1975"
# patient -> ages (years before NOW) of their CR-Bio, and of their identity-document copies
PATIENTS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "ancien": ((25, 22), ()),        # last activity 22 years ago: destroyed
    "inactif": ((8, 7), (7,)),       # 7 years: archived, copy deleted
    "revenu": ((10, 2), (9,)),       # came back 2 years ago: nothing (last activity is what counts)
    "recent": ((1,), (1,)),          # nothing
    "copie-seule": ((), (6,)),       # a copy and no CR-Bio for 6 years: copy deleted
}


def _ago(years: float) -> datetime:
    return NOW - timedelta(days=365.25 * years)


async def _reports(database: Database, patient: str, ages: tuple[float, ...]) -> None:
    for n, age in enumerate(ages):
        report = {"id": f"{patient}-cr{n}"}
        for fmt in ("n3", "n1", "pdf"):
            ident = f"{report['id']}-{fmt}-v1"
            await database.store.update({"resourceType": "Binary", "id": ident, "contentType": "application/pdf",
                                         "data": base64.b64encode(b"CR " + ident.encode()).decode()})
            await database.store.update({"resourceType": "DocumentReference", "id": ident, "status": "current",
                                         "subject": {"reference": f"Patient/{patient}"},
                                         "content": [{"attachment": {"url": f"Binary/{ident}"}}]})
            await database.store.update({"resourceType": "DocumentReference", "id": ident, "status": "current",
                                         "description": "v2 (a history version exists)",
                                         "subject": {"reference": f"Patient/{patient}"},
                                         "content": [{"attachment": {"url": f"Binary/{ident}"}}]})
        await record_version(database.db, None, report, 1, f"Patient/{patient}", {"finess": "750000001"}, _ago(age))


@pytest.fixture(scope="module")
async def master() -> bytes:
    return base64.b64decode(new_master_key())


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("retention") / "var"


@pytest.fixture(scope="module")
async def db(data_dir: Path, master: bytes) -> AsyncIterator[Database]:
    """One store for the module: the tests that only look come first, the one that runs the job for real last."""
    database = await open_database(Settings(data_dir=data_dir))
    try:
        with pytest.MonkeyPatch.context() as clock:
            for patient, (reports, copies) in PATIENTS.items():
                await _reports(database, patient, reports)
                for age in copies:
                    clock.setattr(identity_documents, "now_utc", lambda age=age: _ago(age))
                    await keep(database.db, master, f"Patient/{patient}", "application/pdf", SCAN, "test")
        yield database
    finally:
        await database.close()


async def _state(database: Database) -> dict[str, Any]:
    """Everything the job may touch, as plain data, to compare before and after."""
    out: dict[str, Any] = {}
    for name in ("Binary", "DocumentReference", "DocumentReference_history", "Binary_history", VERSIONS, COPIES,
                 "AuditEvent"):
        out[name] = sorted([str(d) async for d in database.db[name].find({})])
    return out


def _expected_ids(patient: str) -> list[str]:
    return [f"{patient}-cr{n}-{fmt}-v1" for n in range(len(PATIENTS[patient][0])) for fmt in ("n3", "n1", "pdf")]


@pytest.mark.req("SGL.DOC.20")
@pytest.mark.req("SGL.INS.57")
async def test_the_dry_run_counts_and_changes_nothing_SGL_DOC_20_SGL_INS_57(db: Database) -> None:
    before = await _state(db)
    report = await run_retention(db.store, db.db, NOW, dry_run=True)
    assert await _state(db) == before
    assert (report.patients_destroyed, report.versions_destroyed, report.resources_destroyed) == (1, 2, 12)
    assert (report.patients_archived, report.versions_archived) == (1, 2)
    assert report.identity_copies_deleted == 2 and report.audit_event is None and report.dry_run


@pytest.mark.req("SGL.INS.57")
async def test_copies_are_sealed_at_rest_with_the_configured_key_SGL_INS_57(db: Database, master: bytes) -> None:
    stored = await db.db[COPIES].find_one({"patient": "Patient/recent"})
    assert stored is not None and SCAN not in bytes(stored["ciphertext"])
    assert b"DUPONT" not in bytes(stored["ciphertext"])
    assert master not in bytes(stored["wrapped_key"]) and stored["key_id"] == key_id(master)
    assert len(stored["wrapped_key"]) == 12 + 32 + 16  # nonce, AES-256 data key, GCM tag
    assert (await read_copy(db.db, master, "Patient/recent", stored["_id"])) == ("application/pdf", SCAN)
    with pytest.raises(KeyMismatch):
        await read_copy(db.db, base64.b64decode(new_master_key()), "Patient/recent", stored["_id"])
    sealed = Sealed(stored["key_id"], bytes(stored["wrapped_key"]), bytes(stored["ciphertext"]))
    with pytest.raises(KeyMismatch):  # the copy moved to another patient's record does not open
        open_sealed(master, sealed, f"{stored['_id']}|Patient/revenu".encode())
    everything = str([d async for d in db.db[COPIES].find({})]).encode()
    assert base64.b64encode(master) not in everything and master not in everything


@pytest.mark.req("SGL.DOC.20")
async def test_sgl_retention_run_dry_run_from_the_command_line_SGL_DOC_20(db: Database, data_dir: Path,
                                                                          tmp_path: Path) -> None:
    before = await _state(db)
    answer = subprocess.run([SGL, "retention", "run", "--dry-run", "--now", "2046-03-01", "--data-dir",
                             str(data_dir)], capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert answer.returncode == 0, answer.stderr
    assert '"versions_destroyed": 2' in answer.stdout and '"dry_run": true' in answer.stdout
    assert await _state(db) == before
    key = tmp_path / "master.key"
    made = subprocess.run([SGL, "retention", "new-key", str(key)], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0 and len(base64.b64decode(key.read_text())) == 32
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    again = subprocess.run([SGL, "retention", "new-key", str(key)], capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "never overwritten" in again.stderr


@pytest.mark.req("SGL.DOC.20")
@pytest.mark.req("SGL.INS.57")
async def test_archive_at_five_destroy_at_twenty_copies_at_five_SGL_DOC_20_SGL_INS_57(db: Database) -> None:
    report = await run_retention(db.store, db.db, NOW)
    assert (report.versions_destroyed, report.resources_destroyed, report.versions_archived,
            report.documents_archived, report.identity_copies_deleted) == (2, 12, 2, 6, 2)
    # destroyed: no current version, no history version, the dashboard line kept without content
    gone = _expected_ids("ancien")
    for rtype in ("Binary", "DocumentReference"):
        assert await db.db[rtype].count_documents({"_id": {"$in": gone}}) == 0
        assert await db.db[f"{rtype}_history"].count_documents({"i": {"$in": gone}}) == 0
    assert await db.db[VERSIONS].count_documents({"patient": "Patient/ancien", "destroyed": NOW}) == 2
    # archived: tagged (a new version), content kept
    for ident in _expected_ids("inactif"):
        reference = (await db.store.read("DocumentReference", ident)).resource or {}
        assert {"system": RETENTION_SYSTEM, "code": "archived"}.items() <= reference["meta"]["tag"][0].items()
        assert (await db.store.read("Binary", ident)).resource
    # untouched: the patient who came back, the recent one
    for patient in ("revenu", "recent"):
        for ident in _expected_ids(patient):
            assert "tag" not in ((await db.store.read("DocumentReference", ident)).resource or {}).get("meta", {})
    kept = sorted([d["patient"] async for d in db.db[COPIES].find({}, {"patient": 1})])
    assert kept == ["Patient/recent", "Patient/revenu"]
    # the trail: one AuditEvent with the counts
    event = (await db.store.read("AuditEvent", report.audit_event or "")).resource or {}
    details = {d["type"]: d["valueString"] for d in event["entity"][0]["detail"]}
    assert details["versions_destroyed"] == "2" and details["identity_copies_deleted"] == "2"
    # a second run at the same moment has nothing left to do, and says so without an AuditEvent
    again = await run_retention(db.store, db.db, NOW)
    assert not again.changed() and again.audit_event is None
    # ten years later, the patient archived at seven is still archived, not yet destroyed
    later = await run_retention(db.store, db.db, NOW + timedelta(days=365 * 10))
    assert later.versions_destroyed == 0 and later.versions_archived == 3  # "revenu" (2) and "recent" (1) now


@pytest.mark.req("SGL.DOC.20")
async def test_the_schedule_runs_when_due_and_keeps_its_reports_SGL_DOC_20(db: Database) -> None:
    settings = Settings(retention_every_hours=24)
    assert await run_if_due(db.store, Settings(retention_every_hours=0), NOW) is None  # off
    first = await run_if_due(db.store, settings, NOW + timedelta(days=1))
    assert first is not None and not first.dry_run
    assert await run_if_due(db.store, settings, NOW + timedelta(days=1, hours=23)) is None  # not due yet
    assert await run_if_due(db.store, settings, NOW + timedelta(days=2, hours=1)) is not None
    assert await db.db[RUNS].count_documents({}) == 2
