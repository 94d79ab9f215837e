"""The full path of one request in the browser (issue 15 "Tests and checks"): web/e2e/scenario.test.mjs.

One real ``sgl serve`` for the module on the embedded database, its DMP channel pointing at a running
``sgl dmp-simulator`` (mutual TLS, a test PKI made here), the analyzer partners of tests/support/partners.json
(BIO1 sends over MLLP). The identity source sends a qualified identity (INS on the ANS test OID); the accounts
are made by the function behind ``sgl users create``; a prescriber is in the directory. Everything else is done
in Debian's Chromium through the workbench: the request, the result over a real MLLP socket, the technical and
biological validations, the CR-Bio PDF, the DMP delivery shown delivered. Then, from the outside: the simulator
holds the document and ``$deliveries`` says delivered. Screenshots of each step go to docs/screens/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from server.access import accounts
from server.database import open_database
from server.settings import Settings
from tests.support.access import biologist_practitioner
from tests.support.dmp import DmpSimulator, running_dmp_simulator
from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.workbench import (
    BIOLOGIST_RPPS,
    PASSWORD,
    REPO,
    SERVER_ENV,
    USERS,
    Lab,
    qualified_patient,
    run_e2e,
    web_built,
)

pytestmark = pytest.mark.db
SCREENS = REPO / "docs" / "screens"
QUICK_OUTBOX = {"SGL_DELIVERY_POLL": "0.1", "SGL_DELIVERY_BACKOFF": "0.2", "SGL_DELIVERY_BACKOFF_MAX": "0.5",
                "SGL_DOCUMENT_WORKERS": "1"}


@pytest.fixture(scope="module")
def dmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmpSimulator]:
    with running_dmp_simulator(tmp_path_factory.mktemp("scenario-dmp") / "pki") as sim:
        yield sim


@pytest.fixture(scope="module")
def scenario_server(tmp_path_factory: pytest.TempPathFactory, dmp: DmpSimulator) -> Iterator[SglProcess]:
    env = {**SERVER_ENV, **QUICK_OUTBOX, "SGL_DMP_URL": dmp.base_url, "SGL_DMP_CERT": str(dmp.client_cert),
           "SGL_DMP_KEY": str(dmp.client_key), "SGL_DMP_CA": str(dmp.ca), "SGL_DMP_TIMEOUT": "4"}
    server = start_sgl(tmp_path_factory.mktemp("scenario") / "var", env=env)  # with the analyzer partners
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def scenario_lab(scenario_server: SglProcess) -> dict[str, str]:
    """The qualified identity (sent by the identity source), the biologist's Practitioner, a prescriber, the
    three accounts; no request and no result: the browser makes them."""
    database = await open_database(Settings(data_dir=scenario_server.data_dir))
    lab = Lab(scenario_server, database.db)
    try:
        feed, staff = await lab.client("source-identite"), await lab.client("biologiste-responsable")
        patient = await lab.created(feed, qualified_patient())
        biologist = f"Practitioner/{await lab.created(staff, biologist_practitioner())}"
        doctor = await lab.created(staff, {
            "resourceType": "Practitioner", "name": [{"family": "PRESCRIPTEUR", "given": ["Paul"], "prefix": ["Dr"]}],
            "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810000000001"}]})
        await lab.created(staff, {"resourceType": "PractitionerRole",
                                  "practitioner": {"reference": f"Practitioner/{doctor}"}})
        for login, (role, name) in USERS.items():
            biologist_role = role == "biologiste"
            await accounts.create_user(database.db, login, PASSWORD, role=role, name=name,
                                       practitioner=biologist if biologist_role else None,
                                       rpps=BIOLOGIST_RPPS if biologist_role else None)
        return {"patient": patient, "prescriber": "Dr PRESCRIPTEUR Paul", "mllp": str(scenario_server.mllp_port)}
    finally:
        for client in lab.clients:
            await client.aclose()
        await database.close()


def test_request_to_dmp_through_the_workbench_each_role_its_own_steps(
        scenario_server: SglProcess, scenario_lab: dict[str, str], dmp: DmpSimulator) -> None:
    """Secretary: the request (no validation offered or accepted). Analyzer: the result over MLLP, AA after the
    commit. Technician: the bench list, read again, technical validation (biological refused). Biologist:
    biological validation, the PDF. The DMP delivery shown "Délivré" to the biologist and to the secretary;
    the simulator lists the document of that report and the server's $deliveries says delivered."""
    missing = web_built()
    assert missing is None, missing
    done = run_e2e("scenario", scenario_server, scenario_lab, SCREENS, timeout=180)
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"browser scenario failed:\n{report[-6000:]}"
    assert "ℹ fail 0" in report and "ℹ pass 4" in report, report[-3000:]
    seen = json.loads(report.split("SCENARIO ", 1)[1].splitlines()[0])
    held = [d for d in dmp.documents() if seen["report"] in d["uniqueId"]]
    assert held, [d["uniqueId"] for d in dmp.documents()]  # the N3 (and its N1) of this report reached the DMP
    base = f"http://127.0.0.1:{scenario_server.port}"
    login = httpx.post(f"{base}/auth/login", json={"username": "claire", "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    answer = httpx.get(f"{base}/fhir/DiagnosticReport/{seen['report']}/$deliveries", timeout=30,
                       headers={"Cookie": f"sgl_session={login.cookies['sgl_session']}"})
    assert answer.status_code == 200, answer.text
    deliveries = [json.loads(p["valueString"]) for p in answer.json()["parameter"]]
    assert [d["state"] for d in deliveries if d["channel"] == "dmp"] == ["delivered"], deliveries
    report_answer = httpx.get(f"{base}/fhir/DiagnosticReport/{seen['report']}", timeout=30,
                              headers={"Cookie": f"sgl_session={login.cookies['sgl_session']}"})
    assert report_answer.json()["subject"]["reference"] == f"Patient/{scenario_lab['patient']}"
    for step in ("1-demande", "2-paillasse", "3-validation", "4-cr-bio", "5-diffusion"):
        assert (SCREENS / f"scenario-{step}.png").stat().st_size > 5_000, step
