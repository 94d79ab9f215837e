"""INSi calls of a professional logged in through Pro Santé Connect carry their identity in a VIHF,
beside the organisation certificate's mutual TLS (SGL.INS.48): ``sgl serve`` wired to a real
``sgl psc-simulator`` and to the simulated INSi; the simulator's received request is read back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from facades.insi import SimulatorHandle, start_insi_simulator
from facades.insi.envelope import read_request
from tests.support.identity_samples import parameters, provisional
from tests.support.identity_servers import insi_env
from tests.support.pki import create_test_pki
from tests.support.psc import PscSimulator, create_psc_user, pick_user, psc_env, start_psc_simulator
from tests.support.sgl_server import SglProcess, start_sgl

pytestmark = pytest.mark.db
PASSWORD = "only-for-the-password-login-1234"


@dataclass
class Wired:
    sim: PscSimulator
    insi: SimulatorHandle
    sgl: SglProcess

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.sgl.port}"


@pytest.fixture(scope="module")
async def wired(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Wired]:
    root = tmp_path_factory.mktemp("psc-insi")
    pki = create_test_pki(root / "insi-pki", client_common_name="INSI-MANU")
    insi = await start_insi_simulator("127.0.0.1", 0, pki.server.cert, pki.server.key, pki.ca.cert)
    sim = start_psc_simulator(root / "psc-pki")
    env = {**insi_env(pki, insi.url), **psc_env(sim)}
    sgl = start_sgl(root / "var", env=env, partners=None)
    try:
        create_psc_user(sgl, env, role="secretaire", password=PASSWORD)
        yield Wired(sim, insi, sgl)
    finally:
        sgl.stop()
        sim.stop()
        await insi.stop()


async def _search(client: httpx.AsyncClient, wired: Wired) -> None:
    headers = {"X-CSRF-Token": client.cookies["sgl_csrf"], "Content-Type": "application/fhir+json"}
    body = {k: v for k, v in provisional().items() if k != "id"}
    created = await client.post(f"{wired.origin}/fhir/Patient", json=body, headers=headers)
    assert created.status_code == 201, created.text
    answer = await client.post(f"{wired.origin}/fhir/Patient/$insi-search", headers=headers,
                               json=parameters(patient=f"Patient/{created.json()['id']}"))
    assert answer.status_code == 200, answer.text


@pytest.mark.req("SGL.INS.48")
async def test_insi_call_of_a_psc_user_names_them_in_the_vihf_SGL_INS_48(wired: Wired) -> None:
    async with httpx.AsyncClient(verify=wired.sim.tls(), follow_redirects=True, timeout=30) as client:
        picker = await client.get(f"{wired.origin}/auth/psc/login")
        assert (await pick_user(client, picker, "899700200001")).status_code == 200
        await _search(client, wired)
    seen = read_request(wired.insi.received[-1])
    assert seen.vihf is not None
    assert (seen.vihf.national_id, seen.vihf.profession, seen.vihf.mode) == ("899700200001", "21", "INDIRECTE")


async def test_password_login_calls_insi_with_the_organisation_certificate_only(wired: Wired) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(f"{wired.origin}/auth/login", json={"username": "claire", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        await _search(client, wired)
    assert read_request(wired.insi.received[-1]).vihf is None
