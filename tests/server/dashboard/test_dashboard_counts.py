"""The dashboards' counts (SGL.TBB.01-03) against a ledger the test keeps itself, on a real database.

The ANS scenario: 10 fictitious CR-Bio a month over two years for one FINESS and one RPPS, plus failures of
each kind. Here the real outbox (``Outbox.record``) writes each version and its deliveries under a clock the
test sets (two years in a few seconds, no sleeps), and the real delivery worker settles every delivery through
channels that answer as the test planned (delivered, refused, left pending). The test notes what it made in
plain Python and counts that per period itself; the aggregation must find the same numbers, read only the
period's lines (``explain``), and the CSV extract must say the same in French.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from server.dashboard.compute import Row, dashboard, explain_command, pipelines
from server.dashboard.periods import LAB_ZONE, Period, periods
from server.dashboard.render import as_csv, as_parameters
from server.database import Database, open_database
from server.delivery import outbox as outbox_module
from server.delivery.channel import (
    Action,
    ChannelAnswer,
    DeliveryItem,
    DocumentEvent,
    DocumentSet,
    Outcome,
    Recipient,
)
from server.delivery.facts import RPPS_SYSTEM, Site
from server.delivery.lease import Leases
from server.delivery.outbox import COLLECTION, Outbox
from server.delivery.worker import DeliveryWorker
from server.settings import Settings
from tests.support.access import SGL

pytestmark = pytest.mark.db
FINESS, RPPS = "750000001", "810001234567"
TODAY = datetime(2026, 6, 15, 12, tzinfo=LAB_ZONE)
WHEN: ContextVar[datetime] = ContextVar("when")
STATUS_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"


def _patient(pid: str, status: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": "TEST", "given": ["Dash"]}],
            "extension": [{"url": STATUS_URL, "extension": [{"url": "identityStatus", "valueCoding": {
                "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status", "code": status}}]}]}


@dataclass
class Planned:
    """One CR-Bio the test made: when, its facts, and per route the outcome it planned."""

    report: str
    when: datetime
    ins: bool
    subcontracted: bool
    masked: bool
    outcomes: dict[str, str]
    """route -> ``delivered`` / ``failed`` / ``pending``."""


class PlannedChannel:
    """A channel whose recipients and answers follow the plan (the outbox and the worker are the real ones)."""

    def __init__(self, name: str, plan: dict[str, Planned]) -> None:
        self.name, self.plan = name, plan

    def _routes(self, report_id: str) -> Sequence[str]:
        prefix = {"dmp": ("dmp",), "hl7v2": ("dpi",), "mssante": ("mss-pro", "mss-patient")}[self.name]
        return [r for r in self.plan[report_id].outcomes if r in prefix]

    async def recipients(self, event: DocumentEvent) -> Sequence[Recipient]:
        names = {"dmp": "dmp", "dpi": "DXCARE", "mss-pro": "dr.x@test.mssante.fr",
                 "mss-patient": f"patient:Patient/{event.patient.get('id')}"}
        return [Recipient(names[r], {"route": r}) for r in self._routes(event.report["id"])]

    async def send(self, item: DeliveryItem, documents: DocumentSet) -> ChannelAnswer:
        raise AssertionError("the test settles each delivery with the worker itself")


def _plan() -> list[Planned]:
    """10 CR-Bio a month from July 2024 to June 2026; one DMP, one MSSanté pro, one MSSanté patient and one DPI
    failure in some months, one delivery left pending, a share subcontracted / masked / without qualified INS."""
    made = []
    for month_index in range(24):
        year, month = 2024 + (6 + month_index) // 12, (6 + month_index) % 12 + 1
        for n in range(10):
            ins = n % 4 != 3
            outcomes = {"dmp": "delivered", "mss-pro": "delivered"}
            if ins:
                outcomes["mss-patient"] = "delivered"
            if n % 5 == 0:
                outcomes["dpi"] = "delivered"
            failing = {0: "dmp", 1: "mss-pro", 2: "mss-patient", 5: "dpi"}.get(n)
            if failing in outcomes and month_index % 3 == 0:
                outcomes[failing] = "failed"
            if n == 6 and month_index == 23:
                outcomes["dmp"] = "pending"
            when = datetime(year, month, 1 + 2 * n, 9, tzinfo=LAB_ZONE).astimezone(UTC)
            made.append(Planned(f"r{month_index:02d}{n}", when, ins, n % 3 == 0, n == 7, outcomes))
    return made


@pytest.fixture(scope="module")
async def made(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Database, list[Planned]]]:
    database = await open_database(Settings(data_dir=Path(tmp_path_factory.mktemp("dash")) / "var"))
    plan = _plan()
    by_id = {p.report: p for p in plan}
    store = database.store
    await store.update({"resourceType": "Practitioner", "id": "bio", "identifier": [
        {"system": RPPS_SYSTEM, "value": RPPS}]})
    await store.update(_patient("pq", "QUAL"))
    await store.update(_patient("pv", "VALI"))
    await store.update({"resourceType": "Observation", "id": "own", "status": "final", "code": {"text": "Na"}})
    await store.update({"resourceType": "Observation", "id": "sub", "status": "final", "code": {"text": "Ac"},
                        "performer": [{"reference": "Organization/soustraitant"}]})
    channels = [PlannedChannel(name, by_id) for name in ("dmp", "mssante", "hl7v2")]
    outbox = Outbox(database.db, store, channels, Site(FINESS, "899999999999"))
    await outbox.ensure_indexes()
    worker = DeliveryWorker(store, database.db, {c.name: c for c in channels},
                            Leases(database.db[COLLECTION], "test", 60), attempts=1, backoff_base=1, backoff_cap=1,
                            timeout=10)
    original = outbox_module.now_utc
    outbox_module.now_utc = WHEN.get  # the outbox's clock: the date the plan says, per task

    refusals: list[tuple[str, datetime]] = []

    async def make(p: Planned) -> None:
        WHEN.set(p.when)
        report = {"resourceType": "DiagnosticReport", "id": p.report, "status": "final",
                  "subject": {"reference": f"Patient/{'pq' if p.ins else 'pv'}"},
                  "resultsInterpreter": [{"reference": "Practitioner/bio"}],
                  "result": [{"reference": "Observation/own"}] + (
                      [{"reference": "Observation/sub"}] if p.subcontracted else []),
                  "meta": {"security": [{"system": "urn:oid:1.2.250.1.213.1.1.4.13", "code": "MASQUE_PS"}]
                           if p.masked else []}}
        await store.update(report)  # a failed delivery's worklist Task names it: it must exist (references.py)
        for key in await outbox.record(None, Action.PUBLISH, report, 1):
            stored = await database.db[COLLECTION].find_one({"_id": key})
            outcome = p.outcomes[stored["route"]]
            if outcome == "delivered":  # the worker's own settling of the channel's answer
                await worker.settle(await worker.leases.take(key) or {}, ChannelAnswer(Outcome.DELIVERED), p.when)
            elif outcome == "failed":
                refusals.append((key, p.when))

    try:
        for month in range(0, len(plan), 10):  # a month's ten at once: the store is shared, as in production
            await asyncio.gather(*(make(p) for p in plan[month:month + 10]))
        for key, when in refusals:  # a failure opens a worklist Task: one at a time, as one worker would
            await worker.settle(await worker.leases.take(key) or {}, ChannelAnswer(Outcome.FAILED, "refusé"), when)
    finally:
        outbox_module.now_utc = original
    yield database, plan
    await database.close()


def _expected(plan: list[Planned], period: Period) -> Counter[str]:
    """The counts of one period, from the test's own notes."""
    counts: Counter[str] = Counter()
    for p in plan:
        if not period.start <= p.when < period.end:
            continue
        counts["produced"] += 1
        counts["ins"] += p.ins
        counts["subcontracted"] += p.subcontracted
        counts["masked"] += p.masked
        for route, outcome in p.outcomes.items():
            prefix = route.replace("-", "_")
            counts[f"{prefix}_sent"] += 1
            counts[f"{prefix}_{outcome}"] += 1
            if outcome == "delivered":
                counts[f"{prefix}_delivered_ins" if p.ins else f"{prefix}_delivered_no_ins"] += 1
                counts[f"{prefix}_dossiers"] += 1
        if all(p.outcomes.get(r) == "delivered" for r in ("dmp", "mss-pro", "mss-patient")):
            counts["dossiers_all3"] += 1
    return counts


def _observed(row: Row) -> Counter[str]:
    return Counter({k: v for k, v in row.metrics().items() if isinstance(v, int) and not isinstance(v, bool)})


@pytest.mark.req("SGL.TBB.01")
@pytest.mark.req("SGL.TBB.02")
@pytest.mark.req("SGL.TBB.03")
async def test_counts_per_period_equal_the_ledger_SGL_TBB_01_SGL_TBB_02_SGL_TBB_03(
        made: tuple[Database, list[Planned]]) -> None:
    database, plan = made
    chosen = periods(TODAY)
    rows = await dashboard(database.db, chosen)
    assert [(r.period.code, r.finess, r.rpps) for r in rows] == [
        (code, FINESS, rpps) for code in ("mois", "annee", "annee-precedente") for rpps in ("", RPPS)]
    for total, one in zip(rows[::2], rows[1::2], strict=True):
        expected = +_expected(plan, total.period)
        assert +_observed(total) == expected, total.period.code
        assert +_observed(one) == expected  # one RPPS: its line is the FINESS's
    month, year, last_year = (_expected(plan, p) for p in chosen)
    assert (month["produced"], year["produced"], last_year["produced"]) == (10, 60, 120)
    # TBB.03: the failures of each channel, and the rate failed / (delivered + failed)
    assert last_year["dmp_failed"] == 4 and last_year["mss_patient_failed"] == 4 and last_year["dpi_failed"] == 4
    june, this_year = rows[0].metrics(), rows[2].metrics()
    assert june["dmp_pending"] == 1 and june["dmp_failed_pct"] == 0.0 and june["dmp_delivered"] == 9
    assert this_year["dmp_failed"] == 2 and this_year["dmp_failed_pct"] == round(100 * 2 / 59, 1)
    assert rows[4].metrics()["mss_pro_failed_pct"] == round(100 * 4 / 120, 1)
    # TBB.02: shares of the CR-Bio produced
    assert rows[4].metrics()["subcontracted_pct"] == 40.0 and rows[4].metrics()["masked_pct"] == 10.0


@pytest.mark.req("SGL.TBB.01")
async def test_each_view_reads_its_period_through_an_index_SGL_TBB_01(made: tuple[Database, list[Planned]]) -> None:
    database, plan = made
    month = periods(TODAY, ("mois",))[0]
    in_month = sum(1 for p in plan if month.start <= p.when < month.end)
    sent = sum(len(p.outcomes) for p in plan if month.start <= p.when < month.end)
    total = await database.db[COLLECTION].count_documents({})
    for name, (collection, pipeline) in [*pipelines(month, FINESS).items(), *pipelines(month).items()]:
        answer = await database.db.command(explain_command(collection, pipeline))
        cursor = answer["stages"][0]["$cursor"] if "stages" in answer else answer
        plan_text = str(cursor["queryPlanner"]["winningPlan"])
        assert "IXSCAN" in plan_text and "COLLSCAN" not in plan_text, (name, plan_text)
        examined = cursor["executionStats"]["totalDocsExamined"]
        assert examined == (in_month if collection == "crbio_versions" else sent), (name, examined)
    assert sent < total / 10  # a month's view reads a month, not the two years


@pytest.mark.req("SGL.TBB.01")
async def test_the_csv_extract_is_french_and_says_the_same_SGL_TBB_01(made: tuple[Database, list[Planned]]) -> None:
    database, plan = made
    rows = await dashboard(database.db, periods(TODAY))
    text = as_csv(rows)
    assert text.startswith("\ufeff") and "\r\n" in text
    table = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert [(t["Période"], t["RPPS"]) for t in table[:2]] == [("mois en cours", "tous"), ("mois en cours", RPPS)]
    last_year = table[4]
    expected = _expected(plan, rows[4].period)
    assert last_year["FINESS géographique"] == FINESS and last_year["Début"] == "2025-01-01"
    assert last_year["Fin"] == "2025-12-31"
    assert int(last_year["CR-Bio produits"]) == expected["produced"]
    assert int(last_year["DMP : échecs"]) == expected["dmp_failed"]
    assert int(last_year["MSSanté patients : envoyés sans INS qualifiée"]) == 0
    assert int(last_year["DPI partenaires : échecs"]) == expected["dpi_failed"]
    assert last_year["% avec analyses sous-traitées"] == "40,0"
    assert int(last_year["Dossiers envoyés au DMP, en MSSanté professionnels et au patient"]) == \
        expected["dossiers_all3"]
    parameters = as_parameters(rows)
    first = {p["name"]: p for p in parameters["parameter"][0]["part"]}
    assert first["period"]["valueString"] == "mois" and first["produced"]["valueInteger"] == 10
    assert "rpps" not in first and first["start"]["valueDate"] == "2026-06-01"


@pytest.mark.req("SGL.TBB.01")
async def test_sgl_dashboard_prints_the_summary_and_the_extract_SGL_TBB_01(
        made: tuple[Database, list[Planned]]) -> None:
    database, plan = made
    data_dir = str(database.embedded.data_dir) if database.embedded else ""
    args = ("dashboard", "--period", "annee-precedente", "--date", "2026-06-15", "--data-dir", data_dir)
    summary = await _sgl(*args)
    expected = _expected(plan, periods(TODAY, ("annee-precedente",))[0])
    assert summary.splitlines()[0].startswith("année précédente (2025-01-01 au 2025-12-31) FINESS 750000001 RPPS tous")
    assert f"{expected['produced']} CR-Bio produits" in summary and f"DMP {expected['dmp_delivered']} envoyés / " \
        f"{expected['dmp_failed']} échecs" in summary
    extract = await _sgl(*args, "--csv")
    assert extract.startswith("\ufeffPériode;Début;Fin;FINESS géographique;RPPS;CR-Bio produits")
    assert len(extract.splitlines()) == 3  # the header, the FINESS, its one RPPS


async def _sgl(*args: str) -> str:
    """``sgl`` in a subprocess, without blocking this loop (the test's own database client keeps answering)."""
    proc = await asyncio.create_subprocess_exec(SGL, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    return out.decode("utf-8")
