"""The workbench's DMP button end to end (SGL.DMP.05, DMP.06): a biologist logged in to ``sgl serve`` asks
``GET /fhir/Patient/{id}/$dmp-access``, posts the answer's form as the browser does to the web-PS URL it names
(``SGL_DMP_WEB_URL`` = the running ``sgl dmp-simulator``'s landing page), and the simulator shows and records
the patient and the professional it received, with a VIHF it verified against its CA. Refused: a patient
whose identity is not qualified, roles without the permission, API clients, accounts without an RPPS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from lxml import html

from server.access.accounts import create_user
from server.access.clients import create_client
from server.database import Database, open_database
from server.settings import Settings
from tests.support import crbio_samples
from tests.support.access import BIOLOGIST_RPPS, ClientCredentials, Credentials, biologist_practitioner, token_url
from tests.support.dmp import DmpSimulator, running_dmp_simulator
from tests.support.sgl_server import SglProcess, start_sgl

PASSWORD = "Motdepasse-de-test-2026"
USERS = {  # login -> (role, name, rpps, linked to the test biologist's Practitioner)
    "claire": ("biologiste", "Dr Claire VALIDEUR", None, True),
    "marc": ("biologiste-responsable", "Marc RESPONSABLE", "10001234567", False),
    "nadia": ("biologiste", "Nadia SANSRPPS", None, False),
    "sophie": ("secretaire", "Sophie ACCUEIL", None, False),
    "thomas": ("technicien", "Thomas PAILLASSE", None, False),
}
INS = "279035121518989"


@dataclass
class Wired:
    server: SglProcess
    database: Database
    sim: DmpSimulator
    practitioner: str
    qualified: str = ""
    provisional: str = ""

    @property
    def fhir(self) -> str:
        return self.server.base

    async def client(self, role: str, practitioner: str | None = None) -> httpx.AsyncClient:
        """An API client of ``role`` (made on the database, as ``sgl clients create`` does)."""
        made, secret = await create_client(self.database.db, f"dmp-web-{role}", role=role, practitioner=practitioner)
        return httpx.AsyncClient(base_url=self.fhir + "/", timeout=30, auth=ClientCredentials(
            token_url(self.fhir), Credentials(made.client_id, secret)))


async def _patient(wired: Wired, qualified: bool) -> str:
    body = crbio_samples.patient(qualified)
    body.pop("id")
    return (await wired.database.store.create(body)).id


@pytest.fixture(scope="module")
def dmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmpSimulator]:
    with running_dmp_simulator(tmp_path_factory.mktemp("dmp-web") / "pki") as sim:
        yield sim


@pytest.fixture(scope="module")
async def wired(tmp_path_factory: pytest.TempPathFactory, dmp: DmpSimulator) -> AsyncIterator[Wired]:
    env = {"SGL_DMP_URL": dmp.base_url, "SGL_DMP_CERT": str(dmp.client_cert), "SGL_DMP_KEY": str(dmp.client_key),
           "SGL_DMP_CA": str(dmp.ca), "SGL_DMP_WEB_URL": dmp.web_url}
    server = start_sgl(tmp_path_factory.mktemp("dmp-access") / "var", env=env, partners=None)
    try:
        database = await open_database(Settings(data_dir=server.data_dir))
        try:
            practitioner = "Practitioner/" + (await database.store.create(biologist_practitioner())).id
            wired = Wired(server, database, dmp, practitioner)
            for login, (role, name, rpps, linked) in USERS.items():
                await create_user(database.db, login, PASSWORD, role=role, name=name, rpps=rpps,
                                  practitioner=practitioner if linked else None)
            wired.qualified, wired.provisional = await _patient(wired, True), await _patient(wired, False)
            yield wired
        finally:
            await database.close()
    finally:
        server.stop()


async def _session(http: httpx.AsyncClient, wired: Wired, login: str) -> dict[str, str]:
    """The session cookie of ``login`` (sent back by hand: the Secure cookie is not replayed over plain http)."""
    answer = await http.post(wired.fhir.removesuffix("/fhir") + "/auth/login",
                             json={"username": login, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("sgl_session="))
    return {"Cookie": cookie.split(";", 1)[0]}


async def _button(wired: Wired, login: str, pid: str, target: str | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        params = {"target": target} if target else None
        return await http.get(f"{wired.fhir}/Patient/{pid}/$dmp-access", params=params,
                              headers=await _session(http, wired, login))


def _param(answer: dict[str, Any], name: str) -> Any:
    found = next(p for p in answer["parameter"] if p["name"] == name)
    return next((v for k, v in found.items() if k.startswith("value")), found.get("part"))


def _form(answer: dict[str, Any]) -> dict[str, str]:
    return {p["part"][0]["valueString"]: p["part"][1]["valueString"] for p in answer["parameter"]
            if p["name"] == "field"}


async def _browser_posts(wired: Wired, answer: dict[str, Any]) -> httpx.Response:
    """What the browser does with the answer: an auto-submitted form to ``url`` (no client certificate)."""
    assert _param(answer, "method") == "POST"
    async with httpx.AsyncClient(verify=wired.sim.tls(with_certificate=False), timeout=30) as browser:
        return await browser.post(_param(answer, "url"), data=_form(answer))


async def _audit(wired: Wired, pid: str) -> list[dict[str, Any]]:
    async with await wired.client("administrateur") as admin:
        found = (await admin.get("AuditEvent", params={"entity": f"Patient/{pid}", "_count": "100"})).json()
    return [e["resource"] for e in found.get("entry", ()) if "$dmp-access" in str(e["resource"])]


@pytest.mark.req("SGL.DMP.05")
async def test_the_dmp_button_opens_the_patient_file_for_the_logged_in_biologist_SGL_DMP_05(wired: Wired) -> None:
    wired.sim.reset()
    answer = await _button(wired, "claire", wired.qualified)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert _param(body, "url") == wired.sim.web_url and _param(body, "page") == "DossierPatient"
    assert _param(body, "mode") == "INDIRECTE" and _param(body, "target") == "patient-file"
    form = _form(body)
    assert form["ins"] == f"{INS}^^^&1.2.250.1.213.1.4.10&ISO^NH" and form["ps"] == f"8{BIOLOGIST_RPPS}"
    landed = await _browser_posts(wired, body)
    assert landed.status_code == 200, landed.text
    assert "Dossier patient" in landed.text and INS in landed.text
    assert f"VALIDEUR Claire (8{BIOLOGIST_RPPS})" in landed.text
    [seen] = wired.sim.web_calls()
    assert seen["accepted"] and seen["page"] == "DossierPatient" and seen["ins"] == form["ins"]
    assert seen["ps"] == f"8{BIOLOGIST_RPPS}" and seen["subject"] == "VALIDEUR Claire"
    assert seen["roles"][0] == "10" and seen["software"] == "OpenSGL"  # médecin biologiste, from the Practitioner
    [event] = [e for e in await _audit(wired, wired.qualified) if "DossierPatient" in str(e)]
    assert event["outcome"] == "0" and event["agent"][0]["who"]["identifier"]["value"] == "user:claire"


@pytest.mark.req("SGL.DMP.05", "SGL.DMP.06")
async def test_the_button_opens_the_launch_page_which_posts_the_call_to_the_dmp_SGL_DMP_05_SGL_DMP_06(
        wired: Wired) -> None:
    """A client that opens a new window on the first URL of the answer (``launch``), with the session: the page
    it gets posts the call (the form, submitted by its script) to the web-PS, which lands on the page. The click
    is one action: the page carries the very VIHF the answer signed, and one AuditEvent records it."""
    wired.sim.reset()
    audited = len(await _audit(wired, wired.qualified))
    async with httpx.AsyncClient(timeout=30) as http:
        session = await _session(http, wired, "claire")
        answer = (await http.get(f"{wired.fhir}/Patient/{wired.qualified}/$dmp-access",
                                 params={"target": "dashboard"}, headers=session)).json()
        first = next(v for p in answer["parameter"] for k, v in p.items() if k in ("valueUrl", "valueUri"))
        assert first == _param(answer, "launch") and "&_format=html&launch=" in first
        page = await http.get(first, headers=session)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store" and "form-action https://127.0.0.1:" in page.headers[
        "content-security-policy"]
    form = html.fromstring(page.text).forms[0]
    assert form.method == "POST" and form.action == wired.sim.web_url
    assert dict(form.form_values()) == _form(answer)  # the answer's signed VIHF, not a second signature
    assert len(await _audit(wired, wired.qualified)) == audited + 1
    assert "document.forms[0].submit()" in page.text  # what the browser runs on load
    async with httpx.AsyncClient(verify=wired.sim.tls(with_certificate=False), timeout=30) as browser:
        landed = await browser.post(form.action, data=dict(form.form_values()))
    assert landed.status_code == 200 and "Tableau de bord du professionnel" in landed.text
    [seen] = wired.sim.web_calls()
    assert seen["accepted"] and seen["ps"] == f"8{BIOLOGIST_RPPS}" and seen["page"] == "TableauDeBord"


async def test_a_launch_link_opens_once_for_its_caller_and_each_request_is_checked_again(wired: Wired) -> None:
    """The handle in ``launch`` is not a pass: the permission table still refuses a secretary, another biologist
    cannot use it, and once used (or taken by anyone) it is gone; each refusal is audited."""
    async with httpx.AsyncClient(timeout=30) as http:
        claire = await _session(http, wired, "claire")
        launch = _param((await http.get(f"{wired.fhir}/Patient/{wired.qualified}/$dmp-access",
                                        headers=claire)).json(), "launch")
        desk = await http.get(launch, headers=await _session(http, wired, "sophie"))
        assert desk.status_code == 403 and "$dmp-access on Patient" in desk.text
        assert (await http.get(launch, headers=claire)).status_code == 200
        audited = len(await _audit(wired, wired.qualified))
        again = await http.get(launch, headers=claire)
        assert again.status_code == 410 and "press the DMP button again" in again.text and "vihf" not in again.text
        other = _param((await http.get(f"{wired.fhir}/Patient/{wired.qualified}/$dmp-access",
                                       headers=claire)).json(), "launch")
        by_marc = await http.get(other, headers=await _session(http, wired, "marc"))
        assert by_marc.status_code == 410 and "vihf" not in by_marc.text
        assert (await http.get(other, headers=claire)).status_code == 410  # taken once, whoever asked
        misplaced = await http.get(f"{wired.fhir}/Patient/{wired.qualified}/$dmp-access",
                                   params={"launch": "x"}, headers=claire)
        assert misplaced.status_code == 400 and "_format=html" in misplaced.text
    refusals = [e for e in await _audit(wired, wired.qualified) if "stale launch link" in str(e)]
    assert len(await _audit(wired, wired.qualified)) == audited + 4 and len(refusals) == 3
    assert {e["outcome"] for e in refusals} == {"4"}


@pytest.mark.req("SGL.DMP.06")
async def test_the_dashboard_and_the_patient_file_both_open_for_an_account_with_its_own_rpps_SGL_DMP_06(
        wired: Wired) -> None:
    wired.sim.reset()
    for target, title in (("dashboard", "Tableau de bord du professionnel"), ("patient-file", "Dossier patient")):
        answer = await _button(wired, "marc", wired.qualified, target)
        assert answer.status_code == 200, answer.text
        landed = await _browser_posts(wired, answer.json())
        assert landed.status_code == 200 and title in landed.text and "RESPONSABLE (810001234567)" in landed.text
    assert [(c["page"], c["accepted"]) for c in wired.sim.web_calls()] == [
        ("TableauDeBord", True), ("DossierPatient", True)]


@pytest.mark.req("SGL.DMP.05")
async def test_a_patient_without_a_qualified_identity_gets_no_dmp_call_SGL_DMP_05(wired: Wired) -> None:
    answer = await _button(wired, "claire", wired.provisional)
    assert answer.status_code == 422 and answer.json()["resourceType"] == "OperationOutcome"
    assert "SGL.DMP.05" in answer.text and "qualified" in answer.text and "field" not in answer.text
    [event] = await _audit(wired, wired.provisional)
    assert event["outcome"] == "4" and "refused" in str(event["entity"])


@pytest.mark.parametrize("login", ["sophie", "thomas"])
async def test_roles_without_the_permission_are_refused(wired: Wired, login: str) -> None:
    answer = await _button(wired, login, wired.qualified)
    assert answer.status_code == 403 and "$dmp-access on Patient" in answer.text


async def test_an_api_client_or_an_account_without_rpps_is_refused(wired: Wired) -> None:
    async with await wired.client("biologiste", wired.practitioner) as client:  # acting as the biologist, not logged in
        as_client = await client.get(f"Patient/{wired.qualified}/$dmp-access")
    assert as_client.status_code == 403 and "not for an API client" in as_client.text
    no_rpps = await _button(wired, "nadia", wired.qualified)
    assert no_rpps.status_code == 403 and "RPPS" in no_rpps.text
    bad_target = await _button(wired, "claire", wired.qualified, "agenda")
    assert bad_target.status_code == 400 and "target" in bad_target.text
    async with httpx.AsyncClient(timeout=30) as http:
        bad_format = await http.get(f"{wired.fhir}/Patient/{wired.qualified}/$dmp-access", params={"_format": "xml"},
                                    headers=await _session(http, wired, "claire"))
    assert bad_format.status_code == 400 and "_format" in bad_format.text


async def test_without_a_seal_to_sign_the_vihf_the_dmp_access_says_it_is_not_configured(
        sgl_server: SglProcess, sgl_db: Database) -> None:
    """The shared server has no DMP settings: a qualified patient and a biologist with an RPPS get a 503 that
    names the missing settings, never an unsigned call."""
    login = f"dmpless{uuid.uuid4().hex[:6]}"
    await create_user(sgl_db.db, login, PASSWORD, role="biologiste", name="Sans Cachet", rpps="10009876543")
    body = crbio_samples.patient(True)
    body.pop("id")
    pid = (await sgl_db.store.create(body)).id
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(f"{sgl_server.base.removesuffix('/fhir')}/auth/login",
                                 json={"username": login, "password": PASSWORD})
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("sgl_session="))
        refused = await http.get(f"{sgl_server.base}/Patient/{pid}/$dmp-access",
                                 headers={"Cookie": cookie.split(";", 1)[0]})
    assert refused.status_code == 503 and "SGL_DMP_SEAL_CERT" in refused.text and "field" not in refused.text
