"""The web workbench (server/web.py and web/): its files served at / by a real ``sgl serve``, the session
description it starts from (``GET /auth/session``), and the browser tests of ``web/e2e`` — Debian's
Chromium driven by playwright-core through the real login form, on data written through the FHIR API
(see tests/support/workbench.py). Each browser suite is one test here; its Node output is shown on failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from resources.errors import NotFound
from server import web
from server.access.doors import door
from server.settings import Settings
from tests.support.psc import CLIENT_ID, CLIENT_SECRET, start_psc_simulator
from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.workbench import PASSWORD, SERVER_ENV, WEB, browser_suite, seed

pytestmark = pytest.mark.db
SCREENSHOTS = WEB / "e2e" / "screenshots"


@pytest.fixture(scope="module")
def workbench_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    server = start_sgl(tmp_path_factory.mktemp("web") / "var", env=SERVER_ENV, partners=None)  # no socket partner
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def workbench(workbench_server: SglProcess) -> dict[str, str]:
    """The lab data and the three accounts (secretary, technician, biologist acting as an RPPS Practitioner)."""
    return await seed(workbench_server)


def _browser_suite(suite: str, server: SglProcess, ids: dict[str, str]) -> str:
    return browser_suite(suite, server, ids, SCREENSHOTS)


def _login(base: str) -> tuple[dict[str, str], str]:
    """Log in as the secretary over HTTP; the session cookie (Secure: httpx keeps it to HTTPS) as a header."""
    answer = httpx.post(f"{base}/auth/login", json={"username": "sophie", "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    cookie = answer.cookies["sgl_session"]
    return {"Cookie": f"sgl_session={cookie}"}, str(answer.json()["csrf"])


def test_workbench_files_are_served_and_api_paths_keep_their_answers(workbench_server: SglProcess) -> None:
    base = f"http://127.0.0.1:{workbench_server.port}"
    home = httpx.get(f"{base}/", timeout=30)
    assert home.status_code == 200 and "<div id=\"root\">" in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert home.headers["cache-control"] == "no-cache"
    for screen in ("/patients", "/validation/cr-123"):  # the SPA's screens: its page, for a reload or a bookmark
        again = httpx.get(base + screen, timeout=30)
        assert again.status_code == 200 and again.text == home.text, screen
    script = re.search(r'src="/assets/([^"]+\.js)"', home.text)
    assert script, home.text
    asset = httpx.get(f"{base}/assets/{script.group(1)}", timeout=30)
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert "javascript" in asset.headers["content-type"]
    for path in ("/assets/nothing.js", "/assets/%2e%2e%2fpyproject.toml", "/assets/..%2Findex.html",
                 "/assets/%00", "/assets/index%00.js",  # a NUL made the path's resolve() raise: 500 before
                 "/auth", "/patients/x/y", "/favicon.ico", "/.opensgl-built", "/fhir/Patient/x/_history/1/extra"):
        answer = httpx.get(base + path, timeout=30)
        assert answer.status_code == 404, (path, answer.status_code)
        assert answer.json()["resourceType"] == "OperationOutcome", path
    assert httpx.get(f"{base}/fhir/Patient", timeout=30).status_code == 401  # the API is not shadowed
    assert httpx.get(f"{base}/fhir", timeout=30).status_code == 405  # as before the workbench: POST only
    assert httpx.get(f"{base}/fhir/metadata", timeout=30).status_code == 200
    assert httpx.get(f"{base}/openapi.json", timeout=30).status_code == 200


async def test_a_missing_build_is_a_clear_404(tmp_path: Path) -> None:
    """SGL_WEB_DIR names the build; without one, the workbench's pages say how to make it (no 500, no blank page)."""
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(settings=Settings(web_dir=tmp_path))))
    for answer in (web.home(request), web.page(request)):  # type: ignore[arg-type]
        with pytest.raises(NotFound, match=r"npm ci && npm run build"):
            await answer
    with pytest.raises(NotFound):
        await web.asset(request, "index.js")  # type: ignore[arg-type]


def test_every_workbench_route_is_a_listed_public_door() -> None:
    """The workbench's routes hold no data: each is in doors.PUBLIC_ROUTES (the door test only sees the API's)."""
    routes = [(method, route.path) for route in web.router.routes for method in route.methods]  # type: ignore[attr-defined]
    assert len(routes) == 2 + 2 * len(web.SCREENS)
    assert all(door(method, path, {}) is None for method, path in routes), routes


async def test_session_says_who_is_logged_in_and_what_the_role_may_do(
        workbench_server: SglProcess, workbench: dict[str, str]) -> None:
    base = f"http://127.0.0.1:{workbench_server.port}"
    assert httpx.get(f"{base}/auth/session", timeout=30).status_code == 401
    headers, csrf = _login(base)
    session = httpx.get(f"{base}/auth/session", headers=headers, timeout=30)
    assert session.status_code == 200, session.text
    body = session.json()
    assert (body["username"], body["role"], body["name"]) == ("sophie", "secretaire", "Sophie ACCUEIL")
    assert {"Patient:read", "Patient:ins", "DiagnosticReport:$cr-bio"} <= set(body["permissions"])
    assert "DiagnosticReport:$validate-biological" not in body["permissions"]
    assert body["site"] == {"insDisplay": ["matricule", "oid", "birth_first_names", "birthplace", "used_names"],
                            "psc": False}
    assert body["login"] == "password"
    assert httpx.get(f"{base}/auth/psc/available", timeout=30).json() == {"available": False}
    assert session.headers["cache-control"] == "no-store"
    out = httpx.post(f"{base}/auth/logout", headers={**headers, "X-CSRF-Token": csrf}, timeout=30)
    assert out.status_code == 204
    assert httpx.get(f"{base}/auth/session", headers=headers, timeout=30).status_code == 401


def test_login_logout_session_end_and_each_roles_screens_in_the_browser(
        workbench_server: SglProcess, workbench: dict[str, str]) -> None:
    _browser_suite("access", workbench_server, workbench)


@pytest.mark.req("SGL.INS.02")
@pytest.mark.req("SGL.INS.08")
def test_patient_search_and_identity_file_in_the_browser_SGL_INS_02_08(
        workbench_server: SglProcess, workbench: dict[str, str]) -> None:
    """The four traits always shown with their labels, the status, every INS field by default (site
    setting), none to a technician; a matricule with a wrong key is refused before any search."""
    _browser_suite("identity", workbench_server, workbench)


def test_biological_validation_worklist_and_crbio_in_the_browser(
        workbench_server: SglProcess, workbench: dict[str, str]) -> None:
    """Worklist with its count, results with previous value, flags and ranges, $validate-biological from the
    page, the CR-Bio PDF of the validated report; runs last in this module (it validates the pending report)."""
    _browser_suite("validation", workbench_server, workbench)


def test_technical_validation_at_the_bench_in_the_browser(
        workbench_server: SglProcess, workbench: dict[str, str]) -> None:
    """After the biologist's suite (it would see the new report): the bench list, $validate-technical."""
    _browser_suite("bench", workbench_server, workbench)


@pytest.fixture(scope="module")
def configured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    """A second lab: Pro Santé Connect configured (the simulator on loopback) and a site INS display setting."""
    root = tmp_path_factory.mktemp("web-configured")
    sim = start_psc_simulator(root / "psc-pki")
    env = {**SERVER_ENV, "SGL_INS_DISPLAY": "used_names", "SGL_PSC_DISCOVERY_URL": sim.discovery_url,
           "SGL_PSC_CLIENT_ID": CLIENT_ID, "SGL_PSC_CLIENT_SECRET": CLIENT_SECRET, "SGL_PSC_CA": str(sim.ca)}
    try:
        server = start_sgl(root / "var", env=env, partners=None)
        try:
            yield server
        finally:
            server.stop()
    finally:
        sim.stop()


@pytest.fixture(scope="module")
async def configured(configured_server: SglProcess) -> dict[str, str]:
    return await seed(configured_server, identities_only=True)


@pytest.mark.req("SGL.INS.02")
def test_the_site_setting_chooses_the_other_ins_fields_SGL_INS_02(
        configured_server: SglProcess, configured: dict[str, str]) -> None:
    """SGL_INS_DISPLAY=used_names: the matricule, OID, list of birth first names and birthplace are not shown;
    birth name, first birth first name, date of birth and sex still are."""
    _browser_suite("identity-setting", configured_server, configured)


@pytest.mark.req("SGL.PSC.01")
def test_pro_sante_connect_login_and_logout_in_the_browser_SGL_PSC_01(
        configured_server: SglProcess, configured: dict[str, str]) -> None:
    _browser_suite("psc", configured_server, configured)
    assert httpx.get(f"http://127.0.0.1:{configured_server.port}/auth/psc/available", timeout=30).json() == {
        "available": True}
