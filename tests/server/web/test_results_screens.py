"""The results side of the web workbench in the browser (issue 15 items 6-10): the CR-Bio in its three formats,
its deliveries per channel and recipient with resend, the dossier's DMP settings, the catalogue's LOINC codes.

One real ``sgl serve`` for the module, on the embedded database, with the DMP channel pointing at a running
``sgl dmp-simulator`` (mutual TLS) and a DPI partner whose MLLP address answers nothing (its deliveries fail);
the lab data of ``tests/support/workbench.py``. The simulator refuses the first document it is sent
(XDSUnknownPatientId), so the earlier report's DMP delivery is a failure the workbench shows and sends again.
Each browser suite (``web/e2e/results-*.test.mjs``, Debian's Chromium driven by playwright-core) is one test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from server.access import accounts
from server.database import open_database
from server.settings import Settings
from tests.support.dmp import DmpSimulator, running_dmp_simulator
from tests.support.sgl_server import SglProcess, free_port, start_sgl
from tests.support.workbench import PASSWORD, QUALIFIED_INS, SERVER_ENV, WEB, browser_suite, seed

pytestmark = pytest.mark.db
SCREENSHOTS = WEB / "e2e" / "screenshots"
FAST_DELIVERY = {"SGL_DELIVERY_BACKOFF": "0.2", "SGL_DELIVERY_BACKOFF_MAX": "0.5", "SGL_DELIVERY_ATTEMPTS": "2",
                 "SGL_DELIVERY_POLL": "0.1", "SGL_DELIVERY_LEASE": "20", "SGL_DELIVERY_TIMEOUT": "4",
                 "SGL_DOCUMENT_WORKERS": "1"}


@pytest.fixture(scope="module")
def dmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmpSimulator]:
    with running_dmp_simulator(tmp_path_factory.mktemp("web-dmp") / "pki") as sim:
        sim.queue_faults("registry_error", code="XDSUnknownPatientId")  # the first document sent is refused
        yield sim


@pytest.fixture(scope="module")
def results_server(tmp_path_factory: pytest.TempPathFactory, dmp: DmpSimulator) -> Iterator[SglProcess]:
    root = tmp_path_factory.mktemp("web-results")
    partners = root / "partners.json"  # a hospital EHR whose listener is down: its deliveries end failed
    partners.write_text(json.dumps([{"name": "DPI-CHU", "role": "dpi", "hl7_application": "DPI-CHU",
                                     "addresses": ["127.0.0.0/8"], "send_to": f"127.0.0.1:{free_port()}"}]))
    env = {**SERVER_ENV, **FAST_DELIVERY, "SGL_DMP_URL": dmp.base_url, "SGL_DMP_CERT": str(dmp.client_cert),
           "SGL_DMP_KEY": str(dmp.client_key), "SGL_DMP_CA": str(dmp.ca), "SGL_DMP_TIMEOUT": "4",
           "SGL_DMP_WEB_URL": dmp.web_url}
    server = start_sgl(root / "var", env=env, partners=partners)
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def lab(results_server: SglProcess) -> dict[str, str]:
    """The workbench's data and accounts, and a responsible biologist (the delivery dashboard's reader)."""
    ids = await seed(results_server)
    database = await open_database(Settings(data_dir=results_server.data_dir))
    try:
        await accounts.create_user(database.db, "marc", PASSWORD, role="biologiste-responsable",
                                   name="Dr Marc RESPONSABLE")
    finally:
        await database.close()
    return ids


def _suite(suite: str, server: SglProcess, ids: dict[str, str]) -> None:
    browser_suite(suite, server, ids, SCREENSHOTS)


@pytest.mark.req("SGL.DOC.12", "SGL.DMP.02", "SGL.DMP.03", "SGL.DOC.15")
def test_reports_formats_deliveries_resend_and_dmp_settings_in_the_browser_SGL_DOC_12_DMP_02_03_DOC_15(
        results_server: SglProcess, lab: dict[str, str], dmp: DmpSimulator) -> None:
    """PDF, self-presenting N3 and N1 in the page; the DMP refusal and the DPI failure with their reasons; the
    DMP delivery sent again from the page reaches the simulator; masking and blocking saved from the page,
    then a blocked dossier's DMP delivery is "Bloqué" and nothing of it reaches the DMP."""
    _suite("results-reports", results_server, lab)
    held = {d["uniqueId"].split("^", 1)[1].rsplit(".", 1)[0] for d in dmp.documents()}
    assert lab["earlier_report"] in held or f"{lab['earlier_report']}.n1" in held, held  # resent, delivered
    assert not any(lab["pending_report"] in h for h in held), held  # blocked from the page: never sent


@pytest.mark.req("SGL.DMP.05", "SGL.DMP.06")
def test_the_dmp_button_posts_the_td09_call_to_the_dmp_portal_SGL_DMP_05_06(
        results_server: SglProcess, lab: dict[str, str], dmp: DmpSimulator) -> None:
    """The biologist's DMP button on a qualified patient opens the portal (the simulator's landing page) with the
    signed call for that INS, for the patient file and the dashboard; no button for a provisional identity nor for
    the secretary."""
    _suite("results-dmp", results_server, lab)
    calls = dmp.web_calls()
    assert [(c["page"], c["accepted"]) for c in calls] == [("DossierPatient", True), ("TableauDeBord", True)], calls
    assert all(c["ins"].startswith(f"{QUALIFIED_INS}^^^") for c in calls), calls


def test_result_review_critical_call_correction_and_rerun_in_the_browser(
        results_server: SglProcess, lab: dict[str, str]) -> None:
    """After the reports suite (it validated the pending report): the review panel, the critical value's banner
    until its call is documented (a Communication), $correct with its reason, $rerun of a result not yet
    validated."""
    _suite("results-review", results_server, lab)


def test_bulk_validation_only_of_clear_reports_in_the_browser(results_server: SglProcess, lab: dict[str, str]) -> None:
    """Two orders made by the biologist through the API: the clear one is ticked and validated in bulk, the one
    with a result above the range says why it must be opened and stays waiting."""
    _suite("results-bulk", results_server, lab)


@pytest.mark.req("SGL.TBB.01")
def test_the_delivery_dashboard_screen_SGL_TBB_01(results_server: SglProcess, lab: dict[str, str]) -> None:
    """The responsible biologist's dashboard from $delivery-dashboard (measures, download); not offered to a
    biologist without the permission."""
    _suite("results-dashboard", results_server, lab)


def _session(base: str, login: str) -> tuple[dict[str, str], str]:
    answer = httpx.post(f"{base}/auth/login", json={"username": login, "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Cookie": f"sgl_session={answer.cookies['sgl_session']}"}, str(answer.json()["csrf"])


def test_a_critical_call_is_documented_by_the_bench_and_biologists_never_rewritten_nor_by_the_desk(
        results_server: SglProcess, lab: dict[str, str]) -> None:
    """The permission rows of Communication: the secretary may read but not document a call (403, nothing
    stored); a technician documents one; nobody updates or deletes it."""
    base = f"http://127.0.0.1:{results_server.port}/fhir"
    call = {"resourceType": "Communication", "status": "completed",
            "subject": {"reference": f"Patient/{lab['qualified']}"},
            "category": [{"coding": [{"system": "https://opensgl.org/fhir/CodeSystem/communication-category",
                                      "code": "critical-value-call"}]}],
            "recipient": [{"display": "IDE de garde"}], "sent": "2026-11-20T09:00:00+01:00"}
    desk, desk_csrf = _session(base.removesuffix("/fhir"), "sophie")
    refused = httpx.post(f"{base}/Communication", json=call, timeout=30,
                         headers={**desk, "X-CSRF-Token": desk_csrf, "Content-Type": "application/fhir+json"})
    assert refused.status_code == 403 and "'create on Communication'" in refused.text, refused.text
    bench, bench_csrf = _session(base.removesuffix("/fhir"), "thomas")
    headers = {**bench, "X-CSRF-Token": bench_csrf, "Content-Type": "application/fhir+json"}
    made = httpx.post(f"{base}/Communication", json=call, headers=headers, timeout=30)
    assert made.status_code == 201, made.text
    stored = made.json()
    assert httpx.put(f"{base}/Communication/{stored['id']}", json=stored, headers=headers,
                     timeout=30).status_code == 403
    assert httpx.delete(f"{base}/Communication/{stored['id']}", headers=headers, timeout=30).status_code == 403
    read = httpx.get(f"{base}/Communication/{stored['id']}", headers=desk, timeout=30)
    assert read.status_code == 200 and read.json()["recipient"] == [{"display": "IDE de garde"}]


@pytest.mark.req("SGL.LOI.08", "SGL.LOI.09", "SGL.LOI.10")
def test_catalogue_loinc_edit_export_and_import_report_in_the_browser_SGL_LOI_08_09_10(
        results_server: SglProcess, lab: dict[str, str]) -> None:
    """The LOINC code of an analysis edited by hand (malformed and wrong-check-digit codes refused next to the
    field), its creation date kept, its modification date and author shown; the LOINC_3 export; a LOINC_6 file
    with a bad line refused with the line named and nothing applied; the secretary offered neither."""
    _suite("results-catalogue", results_server, lab)
