"""Run ``sgl psc-simulator`` as a real process on a free loopback port, as a developer would.

    sim = start_psc_simulator(tmp_path / "psc")     # makes the test PKI and signing key there
    sim.discovery_url, sim.ca                         # what SGL_PSC_DISCOVERY_URL / SGL_PSC_CA take
    pick_user(client, picker_response, "899700200001")  # press a test user's button on the picker page
    sim.stop()
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from facades.psc import PscConfig
from tests.support.sgl_server import SglProcess, free_port, interrupt
from tests.support.waits import READY_POLL_S

CLIENT_ID = "opensgl-dev"
CLIENT_SECRET = "opensgl-dev-secret"


@dataclass
class PscSimulator:
    process: subprocess.Popen[bytes]
    port: int
    cert_dir: Path
    log: Path

    @property
    def issuer(self) -> str:
        return f"https://127.0.0.1:{self.port}/auth/realms/esante-wallet"

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/wallet-openid-configuration"

    @property
    def ca(self) -> Path:
        return self.cert_dir / "ca.pem"

    def tls(self) -> ssl.SSLContext:
        """A client context trusting the simulator's test CA (what a browser would be told to trust)."""
        return ssl.create_default_context(cafile=str(self.ca))

    def state(self) -> dict[str, object]:
        result: dict[str, object] = httpx.get(f"https://127.0.0.1:{self.port}/_simulator/state",
                                              verify=self.tls(), timeout=5).json()
        return result

    def stop(self) -> None:
        interrupt(self.process)


REDIRECT = "http://127.0.0.1:9/auth/psc/callback"
"""Never reached: the tests read the code from the simulator's redirection, as the browser would carry it."""


def config_for(sim: PscSimulator, *, secret: str = CLIENT_SECRET) -> PscConfig:
    """A relying-party configuration pointed at the simulator."""
    return PscConfig(discovery_url=sim.discovery_url, client_id=CLIENT_ID, client_secret=secret,
                     redirect_uri=REDIRECT, post_logout_redirect_uri="http://127.0.0.1:9/", ca_file=Path(sim.ca))


def start_psc_simulator(cert_dir: Path, *extra: str, timeout: float = 60.0) -> PscSimulator:
    port = free_port()
    log = cert_dir.parent / f"psc-simulator-{port}.log"
    sgl = Path(sys.executable).parent / "sgl"
    cmd = [str(sgl), "psc-simulator", "--port", str(port), "--cert-dir", str(cert_dir),
           "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, *extra]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    sim = PscSimulator(proc, port, cert_dir, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sgl psc-simulator exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if sim.ca.exists():
            try:
                if httpx.get(sim.discovery_url, verify=sim.tls(), timeout=1.0).status_code == 200:
                    return sim
            except httpx.HTTPError:
                pass
        time.sleep(READY_POLL_S)
    sim.stop()
    raise RuntimeError(f"sgl psc-simulator did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


_FORM = re.compile(r'<form method="post" action="([^"]+)">')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def picker_form(page: httpx.Response) -> tuple[str, dict[str, str], list[str]]:
    """The picker's form: absolute action URL, hidden fields, and the national ids offered."""
    action = _FORM.search(page.text)
    if action is None:
        raise AssertionError(f"not the test-user picker page: {page.text[:300]}")
    users = re.findall(r'<button type="submit" name="user" value="([^"]+)">', page.text)
    return str(page.url.join(action.group(1))), dict(_HIDDEN.findall(page.text)), users


async def pick_user(client: httpx.AsyncClient, page: httpx.Response, national_id: str) -> httpx.Response:
    """Press the button of ``national_id`` on the picker page, as the professional would."""
    action, fields, users = picker_form(page)
    assert national_id in users, f"{national_id} is not offered by the picker ({users})"
    return await client.post(action, data={**fields, "user": national_id})


def psc_env(sim: PscSimulator) -> dict[str, str]:
    """The settings of an ``sgl serve`` logging in through ``sim`` (plain HTTP on loopback in the tests,
    so the session cookie is not Secure; behind the TLS proxy it is)."""
    return {"SGL_PSC_DISCOVERY_URL": sim.discovery_url, "SGL_PSC_CLIENT_ID": CLIENT_ID,
            "SGL_PSC_CLIENT_SECRET": CLIENT_SECRET, "SGL_PSC_CA": str(sim.ca), "SGL_PSC_AFTER_LOGIN": "/fhir/metadata",
            "SGL_COOKIE_SECURE": "false"}


def create_psc_user(sgl: SglProcess, env: dict[str, str], *, role: str, password: str,
                    rpps: str = "99700200001", name: str = "Claire BIOLAB", login: str = "claire") -> None:
    """``sgl users create`` (password on stdin) of the local account a PSC test user logs in as (matched by RPPS)."""
    created = subprocess.run(
        [str(Path(sys.executable).parent / "sgl"), "users", "create", login, "--role", role, "--rpps", rpps,
         "--name", name, "--password-stdin", "--data-dir", str(sgl.data_dir)],
        input=password + "\n", capture_output=True, text=True, timeout=120, env={**os.environ, **env})
    assert created.returncode == 0, created.stderr
