"""``GET /fhir/$delivery-dashboard`` end to end: a real server validates reports, its outbox delivers them over
MLLP to one hospital EHR that acknowledges and one that refuses (AE), and the dashboard a manager downloads
(JSON and the ``;`` CSV) counts exactly what ``$deliveries`` shows of those reports, failures included.
Roles without the permission are refused; bad parameters get an OperationOutcome."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from server.dashboard.periods import LAB_ZONE
from tests.support.delivery_lab import DeliveryLab, delivery_lab, to, wait_until
from tests.support.dossiers import validated_report
from tests.support.mllp_receiver import MllpReceiver

pytestmark = pytest.mark.db
OK, KO = "DASHOK", "DASHKO"


@pytest.fixture(scope="module")
async def dl(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DeliveryLab]:
    async with delivery_lab(tmp_path_factory.mktemp("dashboard") / "var") as lab:
        yield lab


@dataclass(frozen=True)
class Sent:
    deliveries: list[dict[str, Any]]
    """As ``$deliveries`` lists them."""
    day: str
    """The lab's day (Europe/Paris) the report was validated on. The dashboard is asked for the periods around it
    (``date=``), not around "now": the tests read it later than the fixture made it, and a run crossing midnight
    at the end of a month or a year would find the report outside "mois" and "annee" (and in "annee-precedente")."""


@pytest.fixture(scope="module")
async def sent(dl: DeliveryLab) -> AsyncIterator[Sent]:
    """A report of a patient with a qualified INS delivered to both EHRs."""
    accepting, refusing = await MllpReceiver().start(), await MllpReceiver().start()
    refusing.mode = "ae"
    await dl.add_dpi(OK, accepting.address)
    await dl.add_dpi(KO, refusing.address)
    try:
        day = datetime.now(LAB_ZONE).date().isoformat()
        _, report, _ = await validated_report(dl.lab, {"GLU": 1.05})
        yield Sent(await wait_until(dl.lab.client, report["id"], lambda f: len(to(OK, f)) == 1 and len(
            to(KO, f)) == 1 and all(d["state"] in ("delivered", "failed") for d in f)), day)
    finally:
        await dl.remove_dpi(OK)
        await dl.remove_dpi(KO)
        await accepting.stop()
        await refusing.stop()


def _rows(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    return [{p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in row["part"]}
            for row in parameters["parameter"]]


@pytest.mark.req("SGL.TBB.01")
@pytest.mark.req("SGL.TBB.03")
async def test_the_dashboard_counts_what_the_deliveries_show_SGL_TBB_01_SGL_TBB_03(
        dl: DeliveryLab, sent: Sent) -> None:
    manager = await dl.act_as("biologiste-responsable")
    month = {"period": "mois", "date": sent.day}
    answer = await manager.get("$delivery-dashboard", params=month)
    assert answer.status_code == 200, answer.text
    total, *per_rpps = _rows(answer.json())
    # what the deliveries say, counted here from $deliveries
    reports = {d["report_id"] for d in sent.deliveries}
    delivered = [d for d in sent.deliveries if d["state"] == "delivered"]
    failed = [d for d in sent.deliveries if d["state"] == "failed"]
    assert [d["recipient"] for d in delivered] == [OK] and [d["recipient"] for d in failed] == [KO]
    assert total["produced"] == len(reports) == 1 and total["ins"] == 1
    assert (total["dpi_sent"], total["dpi_delivered"], total["dpi_failed"]) == (len(sent.deliveries), len(delivered),
                                                                                 len(failed))
    assert total["dpi_failed_pct"] == 50.0 and total["dpi_delivered_ins"] == 1 and total["dpi_delivered_no_ins"] == 0
    assert total["dpi_dossiers"] == 1 and total["dmp_sent"] == 0 and total["dossiers_all3"] == 0
    [one] = per_rpps  # one validating biologist: their line is the site's
    assert one["rpps"].startswith("8") and {k: v for k, v in one.items() if k != "rpps"} == total
    # the same in the extract a spreadsheet opens
    extract = await manager.get("$delivery-dashboard", params=month, headers={"Accept": "text/csv"})
    assert extract.status_code == 200 and extract.headers["content-type"].startswith("text/csv")
    assert extract.content.startswith(b"\xef\xbb\xbf") and "attachment" in extract.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(extract.content.decode("utf-8-sig")), delimiter=";"))
    assert [t["RPPS"] for t in table] == ["tous", one["rpps"]]
    assert table[0]["DPI partenaires : échecs"] == "1" and table[0]["DPI partenaires : taux d'échec (%)"] == "50,0"
    assert table[0]["FINESS géographique"] == total["finess"]
    same = await manager.get("$delivery-dashboard", params={**month, "_format": "csv"})
    assert same.content == extract.content


@pytest.mark.req("SGL.TBB.01")
async def test_three_periods_by_default_and_a_finess_filter_SGL_TBB_01(
        dl: DeliveryLab, sent: Sent) -> None:
    admin = await dl.act_as("administrateur")
    rows = _rows((await admin.get("$delivery-dashboard", params={"date": sent.day})).json())
    assert [r["period"] for r in rows if "rpps" not in r] == ["mois", "annee", "annee-precedente"]
    other = _rows((await admin.get("$delivery-dashboard", params={"finess": "999999999", "period": "annee",
                                                                    "date": sent.day})).json())
    assert other == [{"period": "annee", "start": other[0]["start"], "end": other[0]["end"], "finess": "999999999",
                      **{k: v for k, v in other[0].items() if k not in ("period", "start", "end", "finess")}}]
    assert other[0]["produced"] == 0 and other[0]["dpi_sent"] == 0
    last_year = _rows((await admin.get("$delivery-dashboard", params={"period": "annee-precedente",
                                                                                 "date": sent.day})).json())
    assert last_year[0]["produced"] == 0  # this year's reports are not counted in the previous year


@pytest.mark.req("SGL.INS.05")
@pytest.mark.parametrize("role", ["secretaire", "biologiste"])
async def test_roles_without_the_permission_are_refused_SGL_INS_05(dl: DeliveryLab, role: str) -> None:
    answer = await (await dl.act_as(role)).get("$delivery-dashboard")
    assert answer.status_code == 403 and "$delivery-dashboard" in answer.text


async def test_bad_parameters_get_an_operation_outcome(dl: DeliveryLab) -> None:
    manager = await dl.act_as("biologiste-responsable")
    for params, where in (({"period": "semaine"}, "period"), ({"date": "15/06/2026"}, "date"),
                          ({"finess": "abc"}, "finess"), ({"patient": "x"}, "patient")):
        answer = await manager.get("$delivery-dashboard", params=params)
        assert answer.status_code == 400 and answer.json()["resourceType"] == "OperationOutcome", params
        assert where in answer.text
    async with httpx.AsyncClient(base_url=dl.server.base + "/") as anonymous:
        assert (await anonymous.get("$delivery-dashboard")).status_code == 401
    dated = await manager.get("$delivery-dashboard", params={"date": "2025-03-10", "period": "mois"})
    assert _rows(dated.json())[0]["start"] == "2025-03-01" and _rows(dated.json())[0]["end"] == "2025-03-31"

