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

import pytest

from tests.support.dmp import DmpSimulator, running_dmp_simulator
from tests.support.sgl_server import SglProcess, free_port, start_sgl
from tests.support.workbench import SERVER_ENV, WEB, run_e2e, seed, web_built

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
           "SGL_DMP_KEY": str(dmp.client_key), "SGL_DMP_CA": str(dmp.ca), "SGL_DMP_TIMEOUT": "4"}
    server = start_sgl(root / "var", env=env, partners=partners)
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def lab(results_server: SglProcess) -> dict[str, str]:
    return await seed(results_server)


def _suite(suite: str, server: SglProcess, ids: dict[str, str]) -> None:
    missing = web_built()
    assert missing is None, missing
    done = run_e2e(suite, server, ids, SCREENSHOTS)
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"browser tests {suite} failed:\n{report[-6000:]}"
    assert "ℹ fail 0" in report and "ℹ pass 0" not in report, report[-3000:]


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


def test_result_review_trend_correction_and_rerun_in_the_browser(
        results_server: SglProcess, lab: dict[str, str]) -> None:
    """After the reports suite (it validated the pending report): the review panel, $correct with its reason,
    $rerun of a result not yet validated."""
    _suite("results-review", results_server, lab)


@pytest.mark.req("SGL.LOI.08", "SGL.LOI.09", "SGL.LOI.10")
def test_catalogue_loinc_edit_export_and_import_report_in_the_browser_SGL_LOI_08_09_10(
        results_server: SglProcess, lab: dict[str, str]) -> None:
    """The LOINC code of an analysis edited by hand (malformed and wrong-check-digit codes refused next to the
    field), its creation date kept, its modification date and author shown; the LOINC_3 export; a LOINC_6 file
    with a bad line refused with the line named and nothing applied; the secretary offered neither."""
    _suite("results-catalogue", results_server, lab)
