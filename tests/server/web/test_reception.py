"""The reception side of the workbench in the browser (web/e2e/reception.test.mjs): identity creation and edit
with the RNIV traits, bad input refused next to its field with nothing stored, the INSi search / verify from
the identity file against the INSi simulator (mutual TLS on loopback) and the qualification decision.

One ``sgl serve`` for the module, wired to the simulator as the identity tests wire theirs
(tests/support/identity_servers.py); the accounts are made by the function behind ``sgl users create``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from facades.insi import SimulatorHandle, start_insi_simulator
from server.access import accounts
from server.database import open_database
from server.settings import Settings
from tests.support.identity_servers import insi_env
from tests.support.pki import TestPki, create_test_pki
from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.workbench import PASSWORD, SERVER_ENV, USERS, WEB, run_e2e, web_built

pytestmark = pytest.mark.db
SCREENS = WEB / "e2e" / "screenshots"  # not committed; a few are copied to docs/web/


@pytest.fixture(scope="module")
def reception_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return create_test_pki(tmp_path_factory.mktemp("reception-pki"), client_common_name="INSI-MANU")


@pytest.fixture(scope="module")
async def reception_insi(reception_pki: TestPki) -> AsyncIterator[SimulatorHandle]:
    pki = reception_pki
    handle = await start_insi_simulator("127.0.0.1", 0, pki.server.cert, pki.server.key, pki.ca.cert)
    yield handle
    await handle.stop()


@pytest.fixture(scope="module")
def reception_server(reception_pki: TestPki, reception_insi: SimulatorHandle,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    env = {**SERVER_ENV, **insi_env(reception_pki, reception_insi.url)}
    server = start_sgl(tmp_path_factory.mktemp("reception") / "var", env=env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def reception(reception_server: SglProcess) -> dict[str, str]:
    """The accounts of tests/support/workbench.py (secretary, technician, biologist), no data: the tests make it."""
    database = await open_database(Settings(data_dir=reception_server.data_dir))
    try:
        for login, (role, name) in USERS.items():
            await accounts.create_user(database.db, login, PASSWORD, role=role, name=name)
    finally:
        await database.close()
    return {}


def _suite(suite: str, server: SglProcess, ids: dict[str, str]) -> str:
    missing = web_built()
    assert missing is None, missing
    done = run_e2e(suite, server, ids, SCREENS)
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"browser tests {suite} failed:\n{report[-6000:]}"
    passed = re.search(r"ℹ pass (\d+)", report)
    failed = re.search(r"ℹ fail (\d+)", report)
    assert passed and int(passed.group(1)) > 0 and failed and failed.group(1) == "0", report[-3000:]
    return report


async def _patients(server: SglProcess, family: str) -> list[dict[str, object]]:
    """What the store holds under that birth name, read over the API as the biologist."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
        login = await http.post("/auth/login", json={"username": "claire", "password": PASSWORD})
        assert login.status_code == 200, login.text
        found = await http.get("/fhir/Patient", params={"family": family},
                               headers={"Cookie": f"sgl_session={login.cookies['sgl_session']}"})
        assert found.status_code == 200, found.text
        return [e["resource"] for e in found.json().get("entry", [])]


@pytest.mark.req("SGL.INS.11")
@pytest.mark.req("SGL.INS.13")
async def test_identity_creation_edit_insi_and_qualification_in_the_browser_SGL_INS_11_13(
        reception_server: SglProcess, reception: dict[str, str]) -> None:
    """A secretary creates ADRUN Zoé (bad date, 10,000-character name and missing sex refused next to their
    fields first), edits her used name, searches the INSi (00, traits compared), takes its identity
    (récupérée), records an identity card (qualifiée); the history lists both changes."""
    # in a thread: the INSi simulator answers from this test's event loop
    await asyncio.to_thread(_suite, "reception", reception_server, reception)
    stored = await _patients(reception_server, "ADRUN")
    assert len(stored) == 1, stored  # the refused attempts stored nothing
    assert "x" * 200 not in str(await _patients(reception_server, "X"))
    patient = stored[0]
    status = [e for e in patient["extension"] if str(e["url"]).endswith("identity-reliability")]  # type: ignore[index,union-attr]
    assert "QUAL" in str(status), status
    assert {"use": "usual", "family": "MARTIN", "given": ["Zoé"]} in patient["name"]  # type: ignore[operator]
    assert (SCREENS / "identite-insi.png").stat().st_size > 10_000
