"""Deliveries stored before the dashboard facts existed are counted once the backfill has run (issue 16).

The deliveries are written as an earlier version of the outbox wrote them (``new_delivery``: no ``facts``, no
``route``, no ``crbio_versions`` line), on a real database, beside one written by today's outbox. The test
knows what each one is (validator, patient's INS, subcontracted results, masking, channel, outcome) and checks
the dashboard's counts against that, before the backfill (the old ones are not counted) and after it; then that
a second run changes nothing and that start-up runs it once (marker).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.dashboard.backfill import FACTS_BACKFILL, backfill_at_start, backfill_delivery_facts
from server.dashboard.compute import dashboard
from server.dashboard.periods import LAB_ZONE, periods
from server.database import Database, open_database
from server.delivery.channel import Action, DeliverySettings
from server.delivery.facts import RPPS_SYSTEM, VERSIONS, Site
from server.delivery.outbox import COLLECTION, DELIVERED, FAILED, new_delivery
from server.settings import Settings

pytestmark = pytest.mark.db
FINESS, RPPS, FALLBACK_RPPS = "750000001", "810001234567", "899999999999"
TODAY = datetime(2026, 6, 15, 12, tzinfo=LAB_ZONE)
STATUS_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
STATUS_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
SITE = Site(FINESS, FALLBACK_RPPS)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _old_delivery(key: str, channel: str, recipient: str, report: str, created: datetime, state: str, *,
                  masked: bool = False) -> dict[str, object]:
    """A delivery in the shape the outbox stored before the facts (the fields it has always written)."""
    doc = new_delivery(channel=channel, recipient=recipient, extra={}, action=Action.PUBLISH, report_id=report,
                       version=1, patient="Patient/pq" if report != "r-vali" else "Patient/pv",
                       settings=DeliverySettings(masked_to_professionals=masked), author=None,
                       order_key=f"{channel}|{recipient}|{report}", after=None)
    doc.update(_id=key, created=created, due=created, state=state)
    return doc


@pytest.fixture(scope="module")
async def old_store(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    database = await open_database(Settings(data_dir=Path(tmp_path_factory.mktemp("dash-old")) / "var"))
    store = database.store
    await store.update({"resourceType": "Practitioner", "id": "bio", "identifier": [
        {"system": RPPS_SYSTEM, "value": RPPS}]})
    for pid, status in (("pq", "QUAL"), ("pv", "VALI")):
        await store.update({"resourceType": "Patient", "id": pid, "extension": [{"url": STATUS_URL, "extension": [
            {"url": "identityStatus", "valueCoding": {"system": STATUS_SYSTEM, "code": status}}]}]})
    await store.update({"resourceType": "Observation", "id": "sub", "status": "final", "code": {"text": "Ac"},
                        "performer": [{"reference": "Organization/soustraitant"}]})
    await store.update({"resourceType": "Observation", "id": "own", "status": "final", "code": {"text": "Na"}})
    for rid, subject, results in (("r-sub", "pq", ["sub"]), ("r-vali", "pv", ["own"])):
        await store.update({"resourceType": "DiagnosticReport", "id": rid, "status": "final",
                            "subject": {"reference": f"Patient/{subject}"},
                            "resultsInterpreter": [{"reference": "Practitioner/bio"}],
                            "result": [{"reference": f"Observation/{o}"} for o in results]})
    this_month = _naive(datetime(2026, 6, 3, 10, tzinfo=LAB_ZONE))
    last_year = _naive(datetime(2025, 9, 20, 10, tzinfo=LAB_ZONE))  # 256 days before the next one
    await database.db[COLLECTION].insert_many([
        _old_delivery("k1", "dmp", "dmp", "r-sub", this_month, DELIVERED, masked=True),
        _old_delivery("k2", "mssante", "dr.x@test.mssante.fr", "r-sub", this_month, FAILED, masked=True),
        _old_delivery("k3", "mssante", "patient:Patient/pv", "r-vali", last_year, DELIVERED),
        _old_delivery("k4", "hl7v2", "DXCARE", "r-gone", last_year, DELIVERED),  # its report was deleted since
    ])
    # one delivery written by today's outbox: it has its facts, the backfill must leave them as they are
    today = _old_delivery("k5", "dmp", "dmp", "r-vali", this_month, DELIVERED)
    today.update(facts={"finess": "OTHER", "rpps": "", "ins": False, "subcontracted": False, "masked": False,
                        "invisible": False}, route="dmp")
    await database.db[COLLECTION].insert_one(today)
    yield database
    await database.close()


async def _metrics(database: Database, code: str) -> dict[str, dict[str, int | float | None]]:
    rows = await dashboard(database.db, periods(TODAY, (code,)))
    return {f"{r.finess}/{r.rpps}": r.metrics() for r in rows}


async def test_old_deliveries_are_counted_after_the_backfill(old_store: Database) -> None:
    database = old_store
    before = await _metrics(database, "mois")  # the view works, and does not count the old ones
    assert before["OTHER/"]["dmp_delivered"] == 1  # k5, written with its facts
    assert sum(int(m["dmp_delivered"] or 0) for m in before.values()) == 1
    assert all(m["mss_pro_failed"] == 0 and m["produced"] == 0 for m in before.values())

    completed = await backfill_delivery_facts(database.db, database.store, SITE, now=_naive(TODAY))
    assert completed == 4

    month = await _metrics(database, "mois")
    ours = month[f"{FINESS}/{RPPS}"]  # the validator's RPPS, read from the report's interpreter
    assert ours["dmp_delivered"] == 1 and ours["dmp_delivered_ins"] == 1  # pq is QUAL
    assert ours["mss_pro_failed"] == 1 and ours["mss_pro_failed_pct"] == 100.0
    assert ours["produced"] == 1 and ours["subcontracted"] == 1 and ours["masked"] == 1
    assert month["OTHER/"]["dmp_delivered"] == 1  # today's delivery kept its own facts
    last_year = await _metrics(database, "annee-precedente")
    assert last_year[f"{FINESS}/{RPPS}"]["mss_patient_delivered"] == 1
    assert last_year[f"{FINESS}/{RPPS}"]["mss_patient_delivered_ins"] == 0  # pv is only VALI
    assert last_year[f"{FINESS}/{FALLBACK_RPPS}"]["dpi_delivered"] == 1  # report gone: the site's biologist
    version = await database.db[VERSIONS].find_one({"_id": "r-sub:v1"})
    assert version is not None and version["produced"] == _naive(datetime(2026, 6, 3, 10, tzinfo=LAB_ZONE))
    assert (version["finess"], version["rpps"], version["subcontracted"], version["ins"]) == (FINESS, RPPS, True,
                                                                                               True)

    # idempotent: the marker stops the start-up's run, and a forced run finds nothing left to do
    assert await backfill_delivery_facts(database.db, database.store, SITE, now=_naive(TODAY)) is None
    assert await backfill_delivery_facts(database.db, database.store, SITE, now=_naive(TODAY), force=True) == 0
    assert await database.db[VERSIONS].count_documents({}) == 3
    assert await _metrics(database, "mois") == month

    # a delivery 20 months before the others (a lab that sent nothing for a while): the walk does not stop at a
    # quiet span (it stopped after 400 empty days), it reads down to the oldest date in bounded windows
    await database.db[COLLECTION].insert_one(_old_delivery(
        "k6", "dmp", "dmp", "r-sub", _naive(datetime(2024, 1, 10, 10, tzinfo=LAB_ZONE)), DELIVERED))
    assert await backfill_delivery_facts(database.db, database.store, SITE, now=_naive(TODAY), force=True) == 1
    stored = await database.db[COLLECTION].find_one({"_id": "k6"})
    assert stored is not None and stored["facts"]["rpps"] == RPPS


async def test_the_start_up_run_writes_its_marker_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    database = await open_database(Settings(data_dir=tmp_path / "var"))
    try:
        await database.db[COLLECTION].insert_one(_old_delivery(
            "k1", "dmp", "dmp", "r-x", _naive(datetime.now(UTC) - timedelta(days=1)), DELIVERED))
        with caplog.at_level("INFO", logger="server.dashboard.backfill"):
            await backfill_at_start(database.db, database.store, SITE)
        marker = await database.db["_migrations"].find_one({"_id": FACTS_BACKFILL})
        assert marker is not None and marker["deliveries"] == 1
        assert "dashboard facts given to 1 deliveries" in caplog.text
        stored = await database.db[COLLECTION].find_one({"_id": "k1"})
        assert stored is not None and stored["route"] == "dmp" and stored["facts"]["finess"] == FINESS
    finally:
        await database.close()
