"""Pro Santé Connect login end to end (SGL.PSC.01): a real ``sgl serve`` configured with the discovery
URL of a real ``sgl psc-simulator`` (HTTPS on loopback), driven by an HTTP client that follows the
redirects and presses a test user's button on the picker, as a browser would. The session opened is
the workbench session of the local account with the professional's RPPS."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from lxml import etree

from server.database import Database, open_database
from server.settings import Settings
from tests.support import crbio_samples
from tests.support.psc import PscSimulator, create_psc_user, pick_user, psc_env, start_psc_simulator
from tests.support.sgl_server import SglProcess, start_sgl

pytestmark = pytest.mark.db
BIOLOGIST, NO_ACCOUNT, NURSE_ADELI = "899700200001", "899700200003", "0699700204"
PASSWORD = "never-used-with-psc-1234"


@dataclass
class PscSetup:
    sim: PscSimulator
    sgl: SglProcess

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.sgl.port}"


@pytest.fixture(scope="module")
def psc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PscSetup]:
    root = tmp_path_factory.mktemp("psc-login")
    sim = start_psc_simulator(root / "psc-pki")
    # the seal signing the VIHF of the DMP web access ($dmp-access): any certificate of the test PKI will do here
    env = {**psc_env(sim), "SGL_DMP_SEAL_CERT": str(sim.cert_dir / "client.pem"),
           "SGL_DMP_SEAL_KEY": str(sim.cert_dir / "client-key.pem")}
    sgl = start_sgl(root / "var", env=env, partners=None)
    try:
        create_psc_user(sgl, env, role="biologiste", password=PASSWORD)
        yield PscSetup(sim, sgl)
    finally:
        sgl.stop()
        sim.stop()


@pytest.fixture(scope="module")
async def psc_db(psc: PscSetup) -> AsyncIterator[Database]:
    database = await open_database(Settings(data_dir=psc.sgl.data_dir))
    yield database
    await database.close()


def browser(psc: PscSetup) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=psc.sim.tls(), follow_redirects=True, timeout=30)


async def login(client: httpx.AsyncClient, psc: PscSetup, national_id: str) -> httpx.Response:
    """Open the login page, press the professional's button; the answer at the end of the redirections."""
    picker = await client.get(f"{psc.origin}/auth/psc/login")
    assert picker.status_code == 200 and picker.url.host == "127.0.0.1" and picker.url.port == psc.sim.port
    return await pick_user(client, picker, national_id)


async def audit_logins(db: Database, outcome: str) -> list[dict[str, Any]]:
    return [d["r"] async for d in db.db["AuditEvent"].find({"r.type.code": "110114", "r.outcome": outcome})]


@pytest.mark.req("SGL.PSC.01")
async def test_login_opens_the_session_of_the_account_with_that_rpps_SGL_PSC_01(
        psc: PscSetup, psc_db: Database) -> None:
    async with browser(psc) as client:
        anonymous = await client.get(f"{psc.origin}/fhir/Patient")
        assert anonymous.status_code == 401
        landed = await login(client, psc, BIOLOGIST)
        assert landed.status_code == 200 and landed.url.path == "/fhir/metadata"
        callback = next(r for r in landed.history if r.url.path == "/auth/psc/callback")
        assert callback.status_code == 303 and "sgl_session" in client.cookies
        assert (await client.get(f"{psc.origin}/fhir/Patient")).status_code == 200
        replay = await client.get(str(callback.url))  # the same code and state a second time
        assert replay.status_code == 400 and "already used" in replay.json()["issue"][0]["diagnostics"]
    [audit] = [a for a in await audit_logins(psc_db, "0") if a["agent"][0].get("altId") == "claire"][-1:]
    assert audit["agent"][0]["who"]["identifier"]["value"] == BIOLOGIST
    assert "professions 21" in audit["outcomeDesc"] and "exercise modes S" in audit["outcomeDesc"]


@pytest.mark.req("SGL.PSC.01")
@pytest.mark.parametrize(("national_id", "reason"), [
    (NO_ACCOUNT, "no active account of this laboratory has the RPPS 99700200003"),
    (NURSE_ADELI, "no RPPS number (ADELI only)"),
])
async def test_professional_without_a_local_account_gets_no_session_SGL_PSC_01(
        psc: PscSetup, psc_db: Database, national_id: str, reason: str) -> None:
    async with browser(psc) as client:
        refused = await login(client, psc, national_id)
        assert refused.status_code == 403 and reason in refused.json()["issue"][0]["diagnostics"]
        assert "sgl_session" not in client.cookies
        assert (await client.get(f"{psc.origin}/fhir/Patient")).status_code == 401
    assert any(reason in a["outcomeDesc"] for a in await audit_logins(psc_db, "4"))


@pytest.mark.req("SGL.PSC.01")
async def test_forged_state_and_callback_in_another_browser_are_refused_SGL_PSC_01(psc: PscSetup) -> None:
    async with browser(psc) as client:
        picker = await client.get(f"{psc.origin}/auth/psc/login")
        client.follow_redirects = False
        to_callback = await pick_user(client, picker, BIOLOGIST)
        assert to_callback.status_code == 302
        callback_url = httpx.URL(to_callback.headers["location"])
        forged = await client.get(callback_url.copy_set_param("state", "forged-state"))
        assert forged.status_code == 400
        async with browser(psc) as other:  # the victim's browser, without the login cookie of this one
            elsewhere = await other.get(callback_url)
            assert elsewhere.status_code == 400 and "another browser" in elsewhere.json()["issue"][0]["diagnostics"]
            assert "sgl_session" not in other.cookies


@pytest.mark.req("SGL.PSC.01")
async def test_logout_closes_the_session_here_and_at_psc_SGL_PSC_01(psc: PscSetup) -> None:
    async with browser(psc) as client:
        await login(client, psc, BIOLOGIST)
        csrf = client.cookies["sgl_csrf"]
        refused = await client.post(f"{psc.origin}/auth/psc/logout")
        assert refused.status_code == 403  # no CSRF token: a forged cross-site logout does nothing
        ended = psc.sim.state()["ended_sessions"]
        out = await client.post(f"{psc.origin}/auth/psc/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 200 and out.url.path == "/auth/psc/logged-out"
        assert any(r.url.path.endswith("/protocol/openid-connect/logout") for r in out.history)
        assert psc.sim.state()["ended_sessions"] == ended + 1  # type: ignore[operator]
        assert (await client.get(f"{psc.origin}/fhir/Patient")).status_code == 401
        again = await client.get(f"{psc.origin}/auth/psc/login")
        assert 'name="user"' in again.text, "the PSC session is over: the picker is shown again"


@pytest.mark.req("SGL.DMP.05")
async def test_a_pro_sante_connect_session_opens_the_dmp_web_access_in_reinforced_indirect_mode_SGL_DMP_05(
        psc: PscSetup, psc_db: Database) -> None:
    """The DMP button (TD0.9) of a professional logged in by PSC: the VIHF says so (TD0.10 "AIR" mode)."""
    qualified = crbio_samples.patient(True)
    qualified.pop("id")
    pid = (await psc_db.store.create(qualified)).id
    async with browser(psc) as client:
        assert (await login(client, psc, BIOLOGIST)).status_code == 200
        answer = await client.get(f"{psc.origin}/fhir/Patient/{pid}/$dmp-access", params={"target": "dashboard"})
    assert answer.status_code == 200, answer.text
    parameters = {p["name"]: p for p in answer.json()["parameter"]}
    assert parameters["mode"]["valueCode"] == "INDIRECTE_RENFORCEE"
    assert parameters["page"]["valueString"] == "TableauDeBord"
    fields = {p["part"][0]["valueString"]: p["part"][1]["valueString"] for p in answer.json()["parameter"]
              if p["name"] == "field"}
    assert fields["ps"] == BIOLOGIST and fields["mode"] == "INDIRECTE_RENFORCEE"
    vihf = etree.fromstring(base64.b64decode(fields["vihf"]))
    saml = "{urn:oasis:names:tc:SAML:2.0:assertion}"
    assert vihf.findtext(f".//{saml}AuthnContextClassRef") == ("urn:oasis:names:tc:SAML:2.0:ac:classes:"
                                                              "MobileTwoFactorUnregistered")
    assert vihf.findtext(f"{saml}Subject/{saml}NameID") == BIOLOGIST
